"""pyshelf: a shelf of python-build-standalone interpreters that lives beside uv."""

__version__ = "0.1.0"
