"""Where Python's disk goes and how to get it back: inventory, managers, venvs, removal."""
