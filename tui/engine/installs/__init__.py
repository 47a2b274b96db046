"""Installs in uv's layout: keys, the install dir and its lock, links, fix-ups, unpacked copies."""
