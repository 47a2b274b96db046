"""The command line: thin commands over the engine (the app loads only when it is opened)."""
