"""How a pyshelf command ends, for scripts: one meaning per number."""

EXIT_FAILED = 1  # something did not work; stderr says what in one line
EXIT_USAGE = 2  # an option, request or variable could not be read; nothing ran
EXIT_INTERRUPTED = 130  # Ctrl-C; partial downloads are kept for a resume
