"""A Sphinx cluster as the query pipeline asks it (:class:`searchnews.backend.Backend`).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Sequence

import numpy as np
from whoosh import query as Q

from ...analysis import terms
from ...backend import TextEvidence
from ...errors import QueryError
from ...filters import Filter
from ...ranking import rsj_idf
from ...schema import make_schema
from ...vocabulary import Vocabulary
from .sphinxql import _PLAIN, _Sql, _atom, _term_token, to_match

if TYPE_CHECKING:
    from .engine import SphinxEngine

MAX_OTHERS = 10_000           # matching paragraphs of the shown articles


# -- searching ------------------------------------------------------------------------------

COLUMNS = ("article_id", "paragraph", "n_paragraphs", "date_iso", "title_raw",
           "title_derived", "text_raw", "source_name", "url")


def _stored(values: dict) -> dict:
    """Sphinx's attribute values as the embedded engine's stored fields."""
    return {"article_id": values["article_id"], "paragraph": int(values["paragraph"]),
            "n_paragraphs": int(values["n_paragraphs"]),
            "title" if not int(values["title_derived"]) else "derived_title": values["title_raw"],
            "text": values["text_raw"], "date_iso": values["date_iso"] or None,
            "source_name": values["source_name"] or None, "url": values["url"] or None}


class SphinxBackend(TextEvidence):
    """A Sphinx cluster as the query pipeline asks it (:class:`backend.Backend`), for one
    query: it keeps the rows it fetched, so stored fields cost no round trip, and the
    re-ranking evidence and marks come from their text (:class:`backend.TextEvidence`)."""

    name = "sphinx"
    capabilities: frozenset[str] = frozenset()       # no fuzzy words, no suggestions
    schema = make_schema()

    def __init__(self, engine: "SphinxEngine"):
        self.engine = engine
        self.rows: dict[int, dict] = {}
        self._idf: dict[tuple[str, str], float] = {}
        self._words = _Words(engine)

    def doc_count(self) -> int:
        return self.engine.paragraphs()

    def doc_count_all(self) -> int:
        return self.engine.totals()[0]

    def source_names(self) -> list[str]:
        return list(self.engine.source_counts())

    def vocabulary(self) -> Vocabulary:
        return self._words

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.engine.count(_atom([fieldname], _term_token(fieldname, text)))

    def idf(self, fieldname: str, texts: Sequence[str]) -> np.ndarray:
        """The embedded engine's IDF (:func:`ranking.rsj_idf`) over the whole cluster, the
        document frequencies counted in one round trip."""
        todo = [t for t in dict.fromkeys(texts) if (fieldname, t) not in self._idf]
        if todo:
            n = self.engine.totals()[0]
            counts = self.engine.counts([_atom([fieldname], _term_token(fieldname, t))
                                         for t in todo])
            for t, df in zip(todo, counts):
                self._idf[(fieldname, t)] = rsj_idf(df, n)
        return np.array([self._idf[(fieldname, t)] for t in texts])

    def spelling_frequencies(self, spellings: Sequence[str]) -> list[int] | None:
        return None

    def candidates(self, q: Q.Query, limit: int, flt: Filter, by_date: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
        rows = self._select(q, limit, _Sql.of(flt),
                            "date DESC, id ASC" if by_date else "w DESC, id ASC")
        return (np.array([doc for doc, _ in rows], np.int64),
                np.array([score for _, score in rows], np.float64))

    def _select(self, q: Q.Query, limit: int, sql: _Sql, order: str = "w DESC, id ASC"
                ) -> list[tuple[int, float]]:
        """(id, score) of the rows matching ``q`` and the filter, in ``order``; their
        stored fields kept."""
        match = to_match(q)
        if match is None or "" in sql.match:
            return []
        rows = self.engine.select(" ".join([match] + sql.match), sql.where, sql.args, order,
                                  limit)
        out = []
        for row in rows:
            doc, weight, values = row[0], row[1], dict(zip(COLUMNS, row[2:]))
            if sql.article_ids is not None and values["article_id"] not in sql.article_ids:
                continue                   # a 63-bit key collision: never seen, still checked
            self.rows[doc] = _stored(values)
            out.append((doc, weight * self.engine.score_unit()))
        return out

    def article_keys(self, docs: np.ndarray) -> np.ndarray:
        return np.array([self.rows[d]["article_id"] for d in docs.tolist()], dtype=object)

    def stored(self, docs: Sequence[int]) -> list[dict]:
        return [self.rows[d] for d in docs]

    def article_matches(self, q: Q.Query, docs: Sequence[int], scored: bool
                        ) -> list[list[tuple[float, int]]]:
        """One query over the shown articles."""
        articles = [self.rows[d]["article_id"] for d in docs]
        by_article: dict[str, list[tuple[float, int]]] = {}
        for doc, score in self._select(q, MAX_OTHERS, _Sql.of(Filter(), articles)):
            by_article.setdefault(self.rows[doc]["article_id"], []).append((score, doc))
        return [by_article.get(a, []) for a in articles]

    def key_terms(self, article_id: str, n: int) -> list[tuple[str, float]]:
        """The Bo1 weighting the embedded engine uses, with Sphinx's collection counts."""
        article = self.engine.article(article_id)
        if article is None:
            raise QueryError(f"no article '{article_id}' in the index")
        counts: dict[str, int] = {}
        for t in terms("\n".join((article.title,) + article.paragraphs)):
            counts[t] = counts.get(t, 0) + 1
        frequency = self.engine.frequencies(list(counts))
        n_docs = self.engine.totals()[0]
        weight = {}
        for t, tf in counts.items():
            f = max(frequency.get(t, 0), 1) / n_docs
            weight[t] = tf * math.log2((1 + f) / f) + math.log2(1 + f)
        return [(t, weight[t]) for t in sorted(weight, key=lambda t: -weight[t])[:n]]

    def describe(self, q_all: Q.Query, q_any: Q.Query) -> list[str]:
        """The MATCH() strings sent to Sphinx."""
        lines = [f"sphinx all: MATCH('{to_match(q_all)}')"]
        if q_any != q_all:
            lines.append(f"sphinx any: MATCH('{to_match(q_any)}')")
        return lines


class _Words(Vocabulary):
    """Prefix words expanded as the embedded engine does (into the stems of the indexed
    words they match), with the indexed words read from the paragraphs that Sphinx finds
    through the ``words`` field. (Fuzzy words have no equivalent in Sphinx 2.2: the engine
    declares none.)"""

    def __init__(self, engine: "SphinxEngine"):
        super().__init__()
        self.engine = engine
        self.prefixes: set[str] = set()

    def matching(self, pattern: str) -> list[str]:
        prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
        if not prefix:
            raise QueryError(f"'{pattern}': a wildcard needs a letter before '*' on the "
                             f"sphinx engine")
        if not _PLAIN.fullmatch(prefix):
            return []
        if prefix not in self.prefixes:           # each prefix is looked up once per query
            self.prefixes.add(prefix)
            for title, text in self.engine.texts(f"(@words {prefix}*)"):
                for w in terms(title + "\n" + text, stem=False):
                    if w.startswith(prefix):
                        self.counts[w] = self.counts.get(w, 0) + 1
            self._sorted = None
        return super().matching(pattern)
