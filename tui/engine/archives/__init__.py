"""Archives: the catalog that lists them, downloads into the cache, extraction."""
