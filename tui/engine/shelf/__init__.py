"""The shelf: one view over the catalog, the archive cache and the installed interpreters.

``Shelf`` (``shelf.py``) is the engine's front: it lists rows (``Entry``, ``entry.py``;
merged in ``rows.py``), runs what jobs ask of them, installs through ``Installer``
(``installing.py``) and knows builds no catalog lists through ``Provenance``
(``provenance.py``). ``listing.py`` and ``rebuilds.py`` read rows for the views.
"""

from tui.engine.shelf.entry import Entry
from tui.engine.shelf.shelf import Shelf

__all__ = ["Entry", "Shelf"]
