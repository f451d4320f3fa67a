"""What the query pipeline asks of an engine: the backend protocol.

The pipeline (:mod:`searchnews.pipeline`) parses, ranks in tiers, re-ranks, folds duplicates,
highlights, attaches an article's other paragraphs and suggests; an engine only answers the
questions below, each in bulk. Documents are numbered by the engine (``docnum``: Whoosh's
document numbers, Sphinx's ids) and passed back to it as numpy arrays or lists.

:class:`TextEvidence` answers the two questions an engine without a forward index cannot
answer from arrays (the re-ranking evidence of a pool, the words to mark on a page) by
analysing the stored text; the Whoosh engine uses it for segments written without arrays.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
from whoosh import query as Q
from whoosh.fields import Schema

from . import duplicates, evidence
from .errors import QueryError
from .evidence import Matches, QueryWords
from .filters import Filter
from .highlight import Highlighter
from .vocabulary import Vocabulary

# What an engine may not do; the pipeline checks them here, before it asks.
FUZZY = "fuzzy"              # word~ (edit distance over the indexed words)
SUGGESTIONS = "suggestions"  # "did you mean", and searching a typo's correction too


class Backend(Protocol):
    """One engine's answers to the pipeline."""

    name: str                            # "whoosh", "sphinx": for messages
    capabilities: frozenset[str]         # of FUZZY, SUGGESTIONS
    schema: Schema                       # the fields queries are parsed against

    def doc_count(self) -> int:
        """Live paragraphs (0: nothing to search)."""

    def doc_count_all(self) -> int:
        """Paragraphs the document frequencies count (deleted ones included, in Whoosh)."""

    def source_names(self) -> list[str]:
        """The folded outlet names, which ``fuente:`` words are matched against."""

    def vocabulary(self) -> Vocabulary:
        """The indexed words, for prefix and fuzzy words and suggestions."""

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """In how many paragraphs a term of ``fieldname`` is."""

    def idf(self, fieldname: str, texts: Sequence[str]) -> np.ndarray:
        """The re-ranker's IDF (:func:`ranking.rsj_idf`) of several terms, in one call."""

    def spelling_frequencies(self, spellings: Sequence[str]) -> list[int] | None:
        """In how many paragraphs each folded spelling is (None: not known, the stems' IDF
        stands in)."""

    def candidates(self, q: Q.Query, limit: int, flt: Filter, by_date: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``limit`` (docnums, scores) matching ``q`` under ``flt``, best first
        (``by_date``: newest first)."""

    def article_keys(self, docs: np.ndarray) -> np.ndarray:
        """A value per document, equal for the paragraphs of one article only."""

    def evidence(self, docs: np.ndarray, q: QueryWords) -> Matches:
        """The re-ranking evidence of a pool (:mod:`searchnews.evidence`)."""

    def stored(self, docs: Sequence[int]) -> list[dict]:
        """The stored fields of several documents (as the Whoosh schema names them)."""

    def page(self, docs: Sequence[int], marks: dict[str, tuple[frozenset, frozenset]],
             codes: bool = False) -> dict[str, list]:
        """Per document, where the words to mark start (characters) in each field of
        ``marks`` (stems, spellings) and, with ``codes``, under ``"codes"`` its
        :func:`duplicates.signature`."""

    def article_matches(self, q: Q.Query, docs: Sequence[int], scored: bool
                        ) -> list[list[tuple[float, int]]]:
        """For each document, (score, docnum) of the paragraphs of its article that ``q``
        matches (scores only when ``scored``)."""

    def key_terms(self, article_id: str, n: int) -> list[tuple[str, float]]:
        """An article's ``n`` most distinctive text terms with their weights (Bo1)."""

    def describe(self, q_all: Q.Query, q_any: Q.Query) -> list[str]:
        """Lines that ``--explain`` adds for this engine (what it sends its server)."""


def require(backend: Backend, capability: str, what: str) -> None:
    """Refuse, in one sentence, what this engine cannot do."""
    if capability not in backend.capabilities:
        raise QueryError(f"{what} need the embedded engine")


def searched_fields(stored: dict) -> tuple[str, str]:
    """A paragraph's (text, title) as indexed: a title derived from the text is not."""
    return stored["text"], stored.get("title") or ""


class TextEvidence:
    """Evidence and marks from the stored text, analysed again (no forward index)."""

    def stored(self, docs: Sequence[int]) -> list[dict]:
        raise NotImplementedError

    def evidence(self, docs: np.ndarray, q: QueryWords) -> Matches:
        return evidence.from_text([searched_fields(d) for d in self.stored(docs.tolist())], q)

    def page(self, docs: Sequence[int], marks: dict[str, tuple[frozenset, frozenset]],
             codes: bool = False) -> dict[str, list]:
        stored = self.stored(docs)
        fields = [dict(zip(("text", "title"), searched_fields(d))) for d in stored]
        out: dict[str, list] = {}
        for fieldname, (stems, words) in marks.items():
            marker = Highlighter(set(stems), set(words))
            out[fieldname] = [[start for start, _ in marker.spans(f[fieldname])]
                              for f in fields]
        if codes:
            out["codes"] = [duplicates.signature(duplicates.text_codes(d["text"]))
                            for d in stored]
        return out
