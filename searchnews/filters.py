"""Which paragraphs a query may return, as one value every engine translates.

``--since``/``--until``/``--source`` from the user, and what the pipeline adds itself (only
the dated paragraphs for a newest-first list, an article left out of "similar"), are one
:class:`Filter`. The Whoosh engine turns it into docnum arrays, the Sphinx engine into
SQL; ``--explain`` prints :meth:`Filter.describe`, the value that is applied.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass

from .analysis import fold
from .errors import QueryError


def parse_day(value: str, end: bool = False) -> dt.datetime:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the first (or, with ``end``, last) day."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value.strip())
    if not m:
        raise QueryError(f"invalid date '{value}' (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if month is None:
            return dt.datetime(year, 12, 31) if end else dt.datetime(year, 1, 1)
        if day is None:
            last = calendar.monthrange(year, int(month))[1]
            return dt.datetime(year, int(month), last if end else 1)
        return dt.datetime(year, int(month), int(day))
    except ValueError as exc:
        raise QueryError(f"invalid date '{value}': {exc}") from None


@dataclass(frozen=True)
class Filter:
    """The paragraphs a hit may come from: dated within ``start``–``stop`` (inclusive days),
    from one of ``sources`` (folded outlet names), dated or undated only (``dated``), not of
    the article ``exclude_article``. Dates are checked when the filter is made."""

    start: dt.datetime | None = None
    stop: dt.datetime | None = None
    sources: tuple[str, ...] = ()
    dated: bool | None = None
    exclude_article: str | None = None

    @classmethod
    def of(cls, since: str | None = None, until: str | None = None,
           sources: tuple[str, ...] | list[str] = ()) -> "Filter":
        """The user's options as a filter, refusing bad dates and an empty range."""
        start = parse_day(since) if since else None
        stop = parse_day(until, end=True) if until else None
        if start and stop and start > stop:
            raise QueryError(f"--since {since} is after --until {until}")
        return cls(start, stop, tuple(fold(" ".join(s.split())) for s in sources))

    @property
    def has_dates(self) -> bool:
        return self.start is not None or self.stop is not None

    def but(self, **changes) -> "Filter":
        """This filter with some parts changed."""
        return dataclasses.replace(self, **changes)

    def describe(self) -> str | None:
        """The filter in words, for ``--explain`` (None: every paragraph)."""
        parts = []
        if self.has_dates:
            parts.append(f"date {self.start.date() if self.start else '…'} to "
                         f"{self.stop.date() if self.stop else '…'}")
        if self.sources:
            parts.append("source " + " or ".join(f"'{s}'" for s in self.sources))
        if self.dated is not None:
            parts.append("dated only" if self.dated else "undated only")
        if self.exclude_article is not None:
            parts.append(f"not article '{self.exclude_article}'")
        return ", ".join(parts) or None
