"""Re-ranking BM25F candidates: proximity, adjacency, exact spelling, coordination,
derivations.

Whoosh scores each paragraph by BM25F over its words and its article's title. For queries of
several words these signals from the paragraph's text improve on that, each measured with
``searchnews eval`` on squad-es (see the README's "How ranking works"):

* **proximity** — for each pair of query words adjacent in the query, the places where they
  stand within PROXIMITY_WINDOW words of each other, saturated like BM25 term frequency
  (tf / (tf + K1)) and weighed by the pair's mean IDF: "cooperación estratégica" together
  says more than both words far apart;
* **adjacency** — the same pair found right next to each other in the query's order adds
  ADJACENT_WEIGHT times that again: a phrase as typed ("soldados norcoreanos" for "soldado
  norcoreano") beats the two words a few words apart;
* **exact spelling** — the query words found as typed (after folding: accents and case do
  not count, number and inflection do), not only through their stem, in the paragraph and its
  title, scored like a BM25 field of their own (term frequency saturated by K1, length
  normalized by B against the candidates' mean length, the IDF of the spelling from the
  vocabulary's counts when given, else of its stem), times EXACT_WEIGHT: "ganó" for "ganó"
  rather than for "ganar". A stem pools words whose meaning differs; the spelling the user
  chose is the better evidence, and a rare spelling more so than a common one;
* **coordination** — the score is multiplied by the share of the query's total IDF that the
  paragraph (with its title) covers, so that a paragraph with the rare words of a long
  question beats one that repeats a single word;
* **derivations** — a query word of more than PREFIX_LENGTH letters that the paragraph lacks
  but whose first PREFIX_LENGTH letters (folded) begin one of its words, or its title's,
  covers PREFIX_CREDIT of its IDF in that share. The stemmer joins the inflections of a
  word, not its derivations: "economía" and "económico", "independencia" and
  "independiente", "construcción" and "construyó" share five letters and no stem. Cutting
  words to their first letters is the classic light conflation for Romance languages, but it
  also joins unrelated words ("estado", "estadio"), hence only part of the credit, and only
  for a word the paragraph does not have already.

Computing these inside Whoosh (phrase clauses with slop) means span matching on every
candidate; here the best candidates are re-read once and re-scored.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from typing import Mapping

from whoosh import scoring
from whoosh.searching import Searcher

from .analysis import QUICK_FOLD, STOPWORDS, fold, scan, term, terms

PROXIMITY_WINDOW = 3       # words apart, either order, that count as "together"
PROXIMITY_WEIGHT = 1.0     # the bonus of one saturated pair, in units of its IDF
ADJACENT_WEIGHT = 0.5      # extra for a pair right next to each other in the query's order
K1 = 1.2                   # saturation of the re-ranker's counts, as BM25's k1
B = 0.75                   # length normalization of the exact-spelling score, as BM25's b
COORDINATION = 1.0         # exponent of the share of query IDF a paragraph covers
PREFIX_LENGTH = 5          # letters a word shares with its derivations ("econo-mía/-mico")
PREFIX_CREDIT = 0.5        # share of its IDF a missing query word covers through them
EXACT_WEIGHT = 1.0         # weight of the exact-spelling BM25 score (BM25F's is 1)


class BM25F(scoring.BM25F):
    """Whoosh's BM25F with the Robertson–Spärck Jones IDF of the BM25 literature,
    log(1 + (N − n + ½) / (n + ½)), in place of Whoosh's log(N / (n + 1)) + 1, which
    rates words found in most paragraphs too highly (+0.002 MRR@10 on squad-es)."""

    def idf(self, searcher, fieldname, text):
        n = searcher.doc_frequency(fieldname, text)
        total = searcher.doc_count_all()
        return math.log(1 + (total - n + 0.5) / (n + 0.5))


def rerank(searcher: Searcher, pool: Mapping[int, float], words: list[str],
           surfaces: frozenset[str] = frozenset(), counts: Mapping[str, int] | None = None
           ) -> list[tuple[int, float]]:
    """(docnum, score) for every candidate, unsorted: BM25F plus the proximity and adjacency
    bonuses, plus the exact-spelling score, times the share of the query's IDF the paragraph
    covers (derivations counting in part). ``counts`` (folded word → occurrences, the index's
    vocabulary) gives each spelling its own IDF; without it (the Sphinx engine) a spelling
    weighs as its stem."""
    pairs = [(a, b) for a, b in zip(words, words[1:]) if a != b]
    if not pairs:
        return list(pool.items())
    wanted = set(words)
    idf = {w: searcher.idf("text", w) for w in wanted}
    total = sum(idf.values()) or 1.0
    read = []
    for docnum, score in pool.items():
        fields = searcher.stored_fields(docnum)
        positions: dict[str, list[int]] = {}
        exact: Counter[tuple[str, str]] = Counter()
        length = 0
        for m, pos, t in scan(fields["text"], wanted):
            length = pos + 1
            if t is not None:
                positions.setdefault(t, []).append(pos)
                if fold(m.group()) in surfaces:
                    exact[fold(m.group()), t] += 1
        title = terms(fields["title"])
        for m, _, t in scan(fields["title"], wanted):
            if t is not None and fold(m.group()) in surfaces:
                exact[fold(m.group()), t] += 1
        read.append((docnum, score, positions, exact, length + len(title), set(title), fields))
    mean_length = sum(r[4] for r in read) / len(read) if read else 1.0
    exact_idf = _spelling_idf(searcher, {k for r in read for k in r[3]}, idf, counts)
    heads = _heads(surfaces, wanted) if PREFIX_CREDIT else {}
    beginnings = sorted({h for hs in heads.values() for h in hs})
    starts = re.compile(r"\b(?:%s)\w*" % "|".join(beginnings)) if beginnings else None
    out = []
    for docnum, score, positions, exact, length, title, fields in read:
        bonus = 0.0
        for a, b in pairs:
            pa, pb = positions.get(a, ()), positions.get(b, ())
            tf = near(pa, pb, PROXIMITY_WINDOW)
            if tf:
                bonus += tf / (tf + K1) * (idf[a] + idf[b]) / 2
                tf = adjacent(pa, pb)
                bonus += ADJACENT_WEIGHT * tf / (tf + K1) * (idf[a] + idf[b]) / 2
        norm = K1 * (1 - B + B * length / (mean_length or 1.0))
        spelled = sum(exact_idf[key] * tf * (K1 + 1) / (tf + norm) for key, tf in exact.items())
        score += PROXIMITY_WEIGHT * bonus + EXACT_WEIGHT * spelled
        if COORDINATION:
            present = set(positions) | (wanted & title)
            covered = sum(idf[w] for w in present)
            missing = [w for w in heads if w not in present]
            if missing and starts is not None:
                begins = _beginnings(starts, fields["text"] + "\n" + fields["title"])
                covered += PREFIX_CREDIT * sum(idf[w] for w in missing if heads[w] & begins)
            score *= (covered / total) ** COORDINATION
        out.append((docnum, score))
    return out


def _heads(surfaces: frozenset[str], wanted: set[str]) -> dict[str, set[str]]:
    """Query term → the first PREFIX_LENGTH letters of its typed words longer than that."""
    out: dict[str, set[str]] = {}
    for word in surfaces:
        t = term(word)
        if t in wanted and len(word) > PREFIX_LENGTH:
            out.setdefault(t, set()).add(word[:PREFIX_LENGTH])
    return out


def _beginnings(starts: re.Pattern, text: str) -> set[str]:
    """Which of the query words' beginnings (``starts`` matches a word beginning with one)
    begin a word of ``text`` that is not a stopword, folded: one regex pass per paragraph."""
    return {w[:PREFIX_LENGTH] for w in starts.findall(text.lower().translate(QUICK_FOLD))
            if w not in STOPWORDS}


def _spelling_idf(searcher: Searcher, keys: set[tuple[str, str]], idf: Mapping[str, float],
                  counts: Mapping[str, int] | None) -> dict[tuple[str, str], float]:
    """IDF of each (spelling, stem): from the spelling's occurrences when ``counts`` is
    given (occurrences ≥ paragraphs, so a little conservative), else the stem's."""
    if counts is None:
        return {(w, t): idf[t] for w, t in keys}
    total = searcher.doc_count_all()
    return {(w, t): math.log(1 + (total - counts.get(w, 0) + 0.5) / (counts.get(w, 0) + 0.5))
            for w, t in keys}


def adjacent(a: list[int], b: list[int]) -> int:
    """How many occurrences of ``a`` are directly followed by one of ``b``."""
    following = set(b)
    return sum(1 for p in a if p + 1 in following)


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
