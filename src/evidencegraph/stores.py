"""Which store a location names: a folder (the embedded store) or a SPARQL server's URL.

Above both ``store`` and ``remote`` (neither imports this module), so that
the embedded store never imports the remote one that builds on it.
"""

from __future__ import annotations

import os

from .store import Store, store_path


def is_remote(location: str | os.PathLike[str] | None) -> bool:
    """Is the location (``--store``, else ``EVIDENCEGRAPH_STORE``) an ``http(s)://`` URL?"""
    return str(location or os.environ.get("EVIDENCEGRAPH_STORE") or "").startswith(("http://", "https://"))


def open_store(location: str | os.PathLike[str] | None = None, create: bool = False, read_only: bool = False) -> Store:
    """The store at a folder (or, for ``http(s)://``, a remote SPARQL endpoint).

    :raises StoreError: the folder is not a store, or there is none and ``create`` is false.
    """
    if is_remote(location):
        from .remote import RemoteStore

        remote: Store = RemoteStore.from_location(str(location or os.environ["EVIDENCEGRAPH_STORE"]))
        return remote
    return Store(store_path(location), create=create, read_only=read_only)
