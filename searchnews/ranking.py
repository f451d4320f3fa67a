"""Re-ranking BM25F candidates with a proximity bonus.

Whoosh scores each paragraph by BM25F over its words and its article's title. For queries of
several words, a paragraph where the words stand together ("cooperación estratégica") is more
surely about the query than one where they are scattered. Computing that inside Whoosh
(phrase clauses with slop) means span matching on every candidate, which costs tens of
milliseconds per query; here the best CANDIDATES paragraphs are re-read and the bonus added.

For each pair of query words adjacent in the query, the bonus counts the places where they
stand within PROXIMITY_WINDOW words of each other in the paragraph, saturates that count like
BM25 does term frequency (tf / (tf + K1)), and weighs it by the pair's mean IDF, so a pair of
rare words near each other counts for as much as a rare word does.
"""

from __future__ import annotations

import bisect
from typing import Mapping

from whoosh.searching import Searcher

from .analysis import WORD_RE, term

PROXIMITY_WINDOW = 3       # words apart, either order, that count as "together"
PROXIMITY_WEIGHT = 1.0     # the bonus of one saturated pair, in units of its IDF
K1 = 1.2


def rerank(searcher: Searcher, pool: Mapping[int, float], words: list[str]
           ) -> list[tuple[int, float]]:
    """(docnum, BM25F + proximity bonus) for every candidate, unsorted."""
    pairs = [(a, b) for a, b in zip(words, words[1:]) if a != b]
    if not pairs or PROXIMITY_WEIGHT == 0:
        return list(pool.items())
    wanted = {w for pair in pairs for w in pair}
    idf = {w: searcher.idf("text", w) for w in wanted}
    out = []
    for docnum, score in pool.items():
        positions = term_positions(searcher.stored_fields(docnum)["text"], wanted)
        bonus = 0.0
        for a, b in pairs:
            tf = near(positions.get(a, ()), positions.get(b, ()), PROXIMITY_WINDOW)
            if tf:
                bonus += tf / (tf + K1) * (idf[a] + idf[b]) / 2
        out.append((docnum, score + PROXIMITY_WEIGHT * bonus))
    return out


def term_positions(text: str, wanted: set[str]) -> dict[str, list[int]]:
    """Positions (counted over non-stopwords, as the index counts them) of wanted terms."""
    out: dict[str, list[int]] = {}
    pos = 0
    for m in WORD_RE.finditer(text):
        t = term(m.group())
        if t is None:
            continue
        if t in wanted:
            out.setdefault(t, []).append(pos)
        pos += 1
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
