"""The terminal app: widgets that present the engine (``tui.engine``) and submit jobs to it."""
