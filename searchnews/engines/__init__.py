"""Which engine holds the index: the embedded Whoosh folder (default) or a search server.

Each engine is a subpackage (``whoosh/``, ``sphinx/``), loaded only when used. Every
engine offers what :class:`searchnews.Index` offers — ``exists``, ``add_paths``,
``search``, ``similar``, ``article``, ``stats``, ``explain``, ``close`` — with the same
records, errors and exit codes, so the CLI and scripts never need to know which one runs.

URLs: ``whoosh:///path/to/index`` (or a plain folder), ``sphinx://HOST:PORT/INDEX`` for a
Sphinx 2.2 / Manticore server speaking SphinxQL.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from ..errors import SearchnewsError


def engine_url() -> str | None:
    return os.environ.get("SEARCHNEWS_ENGINE") or None


def open_engine(url: str | None = None, index_dir: str | os.PathLike | None = None):
    """The engine a URL names; with neither a URL nor ``$SEARCHNEWS_ENGINE``, the Whoosh
    index in ``index_dir`` (default ``$SEARCHNEWS_INDEX``, else ``./index``)."""
    from .whoosh import Index            # each engine loaded only when it is the one used
    url = url or engine_url()
    if not url:
        return Index(index_dir)
    parsed = urlparse(url)
    if parsed.scheme in ("", "whoosh", "file"):
        return Index(Path(parsed.path or url))
    if parsed.scheme in ("sphinx", "manticore"):
        from .sphinx import SphinxEngine
        return SphinxEngine.from_url(url)
    raise SearchnewsError(f"unknown engine '{url}' (expected whoosh:///PATH or "
                          f"sphinx://HOST:PORT/INDEX)")
