"""What ``pyshelf info`` and the app check around the shelf: the connection to each source
(``doctor``), who else can write pyshelf's folders (``writers``), and whether uv reads the
archive cache (``uvcache``)."""
