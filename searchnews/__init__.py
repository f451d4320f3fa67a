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

from .articles import Article, read_file  # noqa: E402
from .errors import ArticleError, QueryError, SearchnewsError  # noqa: E402
from .index import Index, IndexReport  # noqa: E402
from .search import Hit  # noqa: E402

__all__ = ["Article", "ArticleError", "Hit", "Index", "IndexReport", "QueryError",
           "SearchnewsError", "__version__", "read_file"]
