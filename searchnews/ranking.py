"""Re-ranking BM25F candidates: proximity, exact spelling, coordination.

Whoosh scores each paragraph by BM25F over its words and its article's title. For queries of
several words three signals from the paragraph's text improve on that, each measured with
``searchnews eval`` on squad-es (see the README's "How ranking works"):

* **proximity** — for each pair of query words adjacent in the query, the places where they
  stand within PROXIMITY_WINDOW words of each other, saturated like BM25 term frequency
  (tf / (tf + K1)) and weighed by the pair's mean IDF: "cooperación estratégica" together
  says more than both words far apart;
* **exact spelling** — a query word found as typed (after folding), not only through its
  stem, adds EXACT_WEIGHT times its IDF: "ganó" for "ganó" rather than for "ganar";
* **coordination** — the score is multiplied by the share of the query's total IDF that the
  paragraph (with its title) covers, so that a paragraph with the rare words of a long
  question beats one that repeats a single word.

Computing these inside Whoosh (phrase clauses with slop) means span matching on every
candidate; here the best candidates are re-read once and re-scored.
"""

from __future__ import annotations

import bisect
import math
from typing import Mapping

from whoosh import scoring
from whoosh.searching import Searcher

from .analysis import fold, scan, terms

PROXIMITY_WINDOW = 3       # words apart, either order, that count as "together"
PROXIMITY_WEIGHT = 1.0     # the bonus of one saturated pair, in units of its IDF
K1 = 1.2
COORDINATION = 1.0         # exponent of the share of query IDF a paragraph covers
EXACT_WEIGHT = 0.5         # bonus, in IDF units, for a query word spelled as in the query


class BM25F(scoring.BM25F):
    """Whoosh's BM25F with the Robertson–Spärck Jones IDF of the BM25 literature,
    log(1 + (N − n + ½) / (n + ½)), in place of Whoosh's log(N / (n + 1)) + 1, which
    rates words found in most paragraphs too highly (+0.002 MRR@10 on squad-es)."""

    def idf(self, searcher, fieldname, text):
        n = searcher.doc_frequency(fieldname, text)
        total = searcher.doc_count_all()
        return math.log(1 + (total - n + 0.5) / (n + 0.5))


def rerank(searcher: Searcher, pool: Mapping[int, float], words: list[str],
           surfaces: frozenset[str] = frozenset()) -> list[tuple[int, float]]:
    """(docnum, score) for every candidate, unsorted: BM25F plus the proximity bonus, plus
    the exact-spelling bonus, times the share of the query's IDF the paragraph covers."""
    pairs = [(a, b) for a, b in zip(words, words[1:]) if a != b]
    if not pairs:
        return list(pool.items())
    wanted = set(words)
    idf = {w: searcher.idf("text", w) for w in wanted}
    total = sum(idf.values()) or 1.0
    out = []
    for docnum, score in pool.items():
        fields = searcher.stored_fields(docnum)
        positions: dict[str, list[int]] = {}
        exact: set[str] = set()
        for m, pos, t in scan(fields["text"], wanted):
            if t is not None:
                positions.setdefault(t, []).append(pos)
                if EXACT_WEIGHT and fold(m.group()) in surfaces:
                    exact.add(t)
        bonus = 0.0
        for a, b in pairs:
            tf = near(positions.get(a, ()), positions.get(b, ()), PROXIMITY_WINDOW)
            if tf:
                bonus += tf / (tf + K1) * (idf[a] + idf[b]) / 2
        score += PROXIMITY_WEIGHT * bonus + EXACT_WEIGHT * sum(idf[t] for t in exact)
        if COORDINATION:
            present = set(positions) | (wanted & set(terms(fields["title"])))
            score *= (sum(idf[w] for w in present) / total) ** COORDINATION
        out.append((docnum, score))
    return out


def near(a: list[int], b: list[int], window: int) -> int:
    """How many occurrences of ``a`` have an occurrence of ``b`` within ``window``."""
    if not a or not b:
        return 0
    count = 0
    for p in a:
        i = bisect.bisect_left(b, p - window)
        if i < len(b) and b[i] <= p + window:
            count += 1
    return count
