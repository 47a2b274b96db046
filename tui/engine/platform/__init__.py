"""What differs between Linux, macOS and Windows, in one place: open flags, locks, folder
descriptors, hard links, the atomic swap. The rest of the engine calls these and never
``fcntl``, ``msvcrt``, ``ctypes`` or an ``os.O_*`` flag that one of the systems lacks."""
