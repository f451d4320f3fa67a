"""The embedded engine's answers to the query pipeline (:class:`backend.Backend`).

Candidates, evidence, marks and an article's matches come from the arrays each segment
holds (columnar.py: postings; forward.py: every paragraph's words) when they can answer, else
from Whoosh itself and the stored text (segments written by an older searchnews, queries
the arrays cannot evaluate such as phrases with slop). Caches live on the Whoosh searcher,
which a commit replaces, so they never go stale.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np
from whoosh import query as Q
from whoosh.classify import Bo1Model, Expander
from whoosh.searching import Searcher
from whoosh.util.times import datetime_to_long

from . import columnar, forward
from ...analysis import terms
from ...backend import FUZZY, SUGGESTIONS, TextEvidence
from ...errors import QueryError
from ...evidence import Matches, QueryWords
from ...filters import Filter
from ...vocabulary import Vocabulary

NO_DATE = 2 ** 64 - 1   # what the date column holds for an undated paragraph


class WhooshBackend(TextEvidence):
    """One Whoosh searcher, as the pipeline asks it."""

    name = "whoosh"
    capabilities = frozenset({FUZZY, SUGGESTIONS})

    def __init__(self, searcher: Searcher,
                 vocabulary: Callable[[], Vocabulary] | None = None) -> None:
        self.searcher = searcher
        self.schema = searcher.schema
        self.columns = columnar.Columns.of(searcher)
        self._vocabulary = vocabulary

    def doc_count(self) -> int:
        return self.searcher.doc_count()

    def doc_count_all(self) -> int:
        return self.searcher.doc_count_all()

    def source_names(self) -> list[str]:
        return [t.decode() for t in self.searcher.reader().lexicon("source")]

    def vocabulary(self) -> Vocabulary:
        return self._vocabulary() if self._vocabulary is not None else Vocabulary()

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """From the postings arrays (which a query has looked up already) when there are,
        else from Whoosh's term index."""
        if self.columns is None:
            return self.searcher.reader().doc_frequency(fieldname, text)
        return self.columns.doc_frequency(fieldname, text.encode("utf-8"))

    def idf(self, fieldname: str, texts: Sequence[str]) -> np.ndarray:
        return np.array([(self.columns or self.searcher).idf(fieldname, t) for t in texts])

    def spelling_frequencies(self, spellings: Sequence[str]) -> list[int] | None:
        if self.columns is None:
            return None
        return forward.spelling_frequencies(self.columns, spellings)

    # -- candidates ------------------------------------------------------------------------

    def candidates(self, q: Q.Query, limit: int, flt: Filter, by_date: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
        """From the postings arrays when they can answer, else from Whoosh."""
        allowed, banned = self._allowed(flt)
        if self.columns is not None:
            mask = None
            if allowed is not None or banned is not None:
                mask = self.columns.mask(allowed) if allowed is not None else \
                    np.ones(self.searcher.doc_count_all(), bool)
                if banned is not None:
                    mask[banned] = False
            try:
                return self.columns.top(q, limit, mask, by=self._date_values() if by_date
                                        else None)
            except columnar.Unsupported:
                pass
        options: dict = {"sortedby": "date", "reverse": True} if by_date else {}
        if allowed is not None:
            options["filter"] = set(allowed.tolist())
        if banned is not None:
            options["mask"] = set(banned.tolist())
        hits = self.searcher.search(q, limit=limit, **options)
        return (np.array([h.docnum for h in hits], np.int64),
                np.array([h.score or 0.0 for h in hits], np.float64))

    def _allowed(self, flt: Filter) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The filter as (docnums allowed, docnums left out), sorted, None for no limit.

        Whoosh's DateRange filter walks the postings of every date in the range on each
        query (140 ms at 100k paragraphs); here the date column is read and sorted once per
        searcher, and a range is two binary searches and a slice."""
        allowed: np.ndarray | None = None
        banned: np.ndarray | None = None
        if flt.has_dates or flt.dated is not None:
            keys, order = self._date_order()
            if flt.has_dates or flt.dated:
                lo = np.searchsorted(keys, datetime_to_long(flt.start), "left") \
                    if flt.start else 0
                hi = np.searchsorted(keys, datetime_to_long(flt.stop), "right") \
                    if flt.stop else len(keys)
                allowed = np.sort(order[lo:hi])
        if flt.sources:
            q = Q.Or([Q.Term("source", s) for s in flt.sources])
            found = np.fromiter(sorted(self.searcher.docs_for_query(q)), np.int64)
            allowed = found if allowed is None else \
                np.intersect1d(allowed, found, assume_unique=True)
        if flt.dated is False:                   # the undated only
            dated = np.sort(order)
            if allowed is None:
                banned = dated
            else:
                allowed = np.setdiff1d(allowed, dated, assume_unique=True)
        if flt.exclude_article is not None:
            own = np.fromiter(self.searcher.reader().postings(
                "article_id", flt.exclude_article).all_ids(), np.int64)
            banned = own if banned is None else np.union1d(banned, own)
        return allowed, banned

    def _date_values(self) -> np.ndarray:
        return date_values(self.searcher)

    def _date_order(self) -> tuple[np.ndarray, np.ndarray]:
        """(dates, docnums) of the dated documents sorted by date, cached on the searcher."""
        cached = getattr(self.searcher, "_searchnews_dates", None)
        if cached is None:
            values = self._date_values()
            dated = np.flatnonzero(values != NO_DATE)
            order = dated[np.argsort(values[dated], kind="stable")]
            cached = self.searcher._searchnews_dates = (values[order], order)
        return cached

    def article_keys(self, docs: np.ndarray) -> np.ndarray:
        """From the forward index, else Whoosh's article_id column (cached on the searcher:
        opening it reads its offsets)."""
        if self.columns is not None:
            return forward.article_keys(self.columns, docs)
        column = getattr(self.searcher, "_searchnews_articles", None)
        if column is None:
            column = self.searcher._searchnews_articles = \
                self.searcher.reader().column_reader("article_id")
        return np.array([column[d] for d in docs.tolist()], dtype=object)

    # -- evidence and pages ----------------------------------------------------------------

    def evidence(self, docs: np.ndarray, q: QueryWords) -> Matches:
        if self.columns is None:
            return super().evidence(docs, q)
        return forward.pool_matches(self.columns, docs, q)

    def stored(self, docs: Sequence[int]) -> list[dict]:
        return [self.searcher.stored_fields(d) for d in docs]

    def page(self, docs: Sequence[int], marks: dict[str, tuple[frozenset, frozenset]],
             codes: bool = False) -> dict[str, list]:
        if self.columns is None:
            return super().page(docs, marks, codes)
        return forward.marked_starts(self.columns, docs, marks, codes=codes)

    def article_matches(self, q: Q.Query, docs: Sequence[int], scored: bool
                        ) -> list[list[tuple[float, int]]]:
        """With the arrays: the article's paragraphs from the forward index, looked up in
        the query's matches (evaluated once per query); else the query's matcher skips
        straight to them instead of running over every paragraph it matches. (An
        article's paragraphs share its date and source: no filter can part them.)"""
        if self.columns is not None:
            try:
                return self._array_matches(q, np.array(docs, np.int64))
            except columnar.Unsupported:
                pass
        s = self.searcher
        reader = s.reader()
        articles = [d["article_id"] for d in self.stored(docs)]
        article_of = {d: aid for aid in set(articles)
                      for d in reader.postings("article_id", aid).all_ids()}
        by_article: dict[str, list[tuple[float, int]]] = {}
        matcher = q.matcher(s, s.context() if scored else s.boolean_context())
        for docnum in sorted(article_of):
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
            if not matcher.is_active():
                break
            if matcher.id() == docnum:
                by_article.setdefault(article_of[docnum], []).append(
                    (matcher.score() if scored else 0.0, docnum))
        return [by_article.get(a, []) for a in articles]

    def _array_matches(self, q: Q.Query, docs: np.ndarray) -> list[list[tuple[float, int]]]:
        found_docs, scores = self.columns.evaluate(q)
        starts, ends = forward.article_spans(self.columns, docs)
        lengths = ends - starts
        members = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + \
            np.arange(int(lengths.sum()))
        at = np.minimum(np.searchsorted(found_docs, members), max(len(found_docs) - 1, 0))
        found = (found_docs[at] == members) if len(found_docs) else \
            np.zeros(len(members), bool)
        owner = np.repeat(np.arange(len(docs)), lengths)[found]
        pairs = list(zip(scores[at[found]].tolist(), members[found].tolist()))
        out: list[list[tuple[float, int]]] = [[] for _ in docs]
        for i, pair in zip(owner.tolist(), pairs):
            out[i].append(pair)
        return out

    def key_terms(self, article_id: str, n: int) -> list[tuple[str, float]]:
        """Whoosh's Bo1 key terms over all the article's text (key_terms_from_text, fed the
        terms' frequencies: the field's postings keep none for Whoosh to count again)."""
        docs = list(self.searcher.documents(article_id=article_id))
        if not docs:
            raise QueryError(f"no article '{article_id}' in the index")
        text = "\n".join([docs[0].get("title") or ""] + [d["text"] for d in docs])
        expander = Expander(self.searcher.reader(), "text", model=Bo1Model)
        expander.add(Counter(terms(text)).items())
        return expander.expanded_terms(n)

    def describe(self, q_all: Q.Query, q_any: Q.Query) -> list[str]:
        return []


def date_values(searcher: Searcher) -> np.ndarray:
    """Each document's date as the date column holds it (NO_DATE: undated), cached on the
    searcher (a refreshed searcher after a commit is a new object, so it never goes stale)."""
    cached = getattr(searcher, "_searchnews_date_values", None)
    if cached is None:
        leaves = searcher.reader().leaf_readers()
        cached = searcher._searchnews_date_values = np.concatenate(
            [columnar.column_values(r, "date", NO_DATE) for r, _ in leaves])
    return cached

