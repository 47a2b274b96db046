"""Requests as people type them (``3.12``, ``3.13t``, ``pypy@3.10``), as uv spells them in
a pin file, and the pins a folder holds."""
