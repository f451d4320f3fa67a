"""Errors a user can act on. Each carries one line of text and the exit code the CLI uses."""

from __future__ import annotations


class SearchnewsError(Exception):
    """A failure to report as one line on stderr, exit code 2 (like grep)."""

    exit_code = 2


class ArticleError(SearchnewsError):
    """An input file that cannot be read as articles: names the file (and line) and why."""

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class QueryError(SearchnewsError):
    """A query that cannot be parsed or has nothing to search for."""


class NothingToSearch(QueryError):
    """A query with no word to look up (stopwords only, or patterns that match no indexed
    word): it finds nothing, exit code 1, and says why."""

    exit_code = 1


class IndexMissingError(SearchnewsError):
    """No index at the given folder yet."""


class IndexDamagedError(SearchnewsError):
    """A file of the index is not what was written (its size or checksum differs)."""


class IndexLockedError(SearchnewsError):
    """Another indexer holds the write lock longer than we were willing to wait."""
