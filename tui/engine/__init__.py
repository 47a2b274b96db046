"""The engine: catalog, archive cache, downloads, installs, jobs and disk usage.

Nothing here imports Textual; the app and the CLI are thin layers over this package.
"""
