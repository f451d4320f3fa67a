"""searchnews: full-text search for Spanish news.

    >>> from searchnews import Index
    >>> ix = Index("index")                 # a folder; created on first add_paths
    >>> report = ix.add_paths(["seeds"])    # incremental
    >>> hits = ix.search("Kursk", limit=5)  # [Hit(rank, score, article_id, title, ...)]
"""

import warnings

# Whoosh 2.7.4 has invalid escape sequences that Python 3.12+ warns about when compiling it.
warnings.filterwarnings("ignore", category=SyntaxWarning, module=r"whoosh(\..*)?")

__version__ = "0.1.0"

# Loaded on first use, so that importing one module (searchnews.stock, in the benchmark's
# stock-Whoosh process) does not load the whole engine.
_EXPORTS = {"Article": "articles", "read_file": "articles", "ArticleError": "errors",
            "QueryError": "errors", "SearchnewsError": "errors", "Index": "engines.whoosh",
            "IndexReport": "ingest", "Hit": "records", "Results": "records"}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'searchnews' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
