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
  paragraphs it is in (the forward index counts them), else of its stem), times
  EXACT_WEIGHT: "ganó" for "ganó" rather than for "ganar". A stem pools words whose meaning differs; the spelling the user
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
candidate; here each candidate's evidence (:mod:`searchnews.evidence`: where the query's words
stand in it, read from the forward index) is scored for the whole pool at once with numpy.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from whoosh import scoring

from .evidence import Matches, QueryWords

PROXIMITY_WINDOW = 3       # words apart, either order, that count as "together"
PROXIMITY_WEIGHT = 1.0     # the bonus of one saturated pair, in units of its IDF
ADJACENT_WEIGHT = 0.5      # extra for a pair right next to each other in the query's order
K1 = 1.2                   # saturation of the re-ranker's counts, as BM25's k1
B = 0.75                   # length normalization of the exact-spelling score, as BM25's b
COORDINATION = 1.0         # exponent of the share of query IDF a paragraph covers
PREFIX_CREDIT = 0.5        # share of its IDF a missing query word covers through derivations
EXACT_WEIGHT = 1.0         # weight of the exact-spelling BM25 score (BM25F's is 1)
_APART = 2 ** 32           # candidate × _APART + position: positions of one candidate


class BM25F(scoring.BM25F):
    """Whoosh's BM25F with the Robertson–Spärck Jones IDF of the BM25 literature,
    log(1 + (N − n + ½) / (n + ½)), in place of Whoosh's log(N / (n + 1)) + 1, which
    rates words found in most paragraphs too highly (+0.002 MRR@10 on squad-es)."""

    def idf(self, searcher, fieldname, text):
        return rsj_idf(searcher.doc_frequency(fieldname, text), searcher.doc_count_all())


def rsj_idf(n: float, total: float) -> float:
    """The Robertson–Spärck Jones IDF of a word in ``n`` of ``total`` documents."""
    return math.log(1 + (total - n + 0.5) / (n + 0.5))


def spelling_idf(q: QueryWords, idf: np.ndarray, frequencies: Sequence[int] | None,
                 total: int) -> np.ndarray:
    """IDF of each typed spelling: from the number of paragraphs it is in when
    ``frequencies`` are known (the forward index counts them), else its stem's."""
    if frequencies is None:
        return idf[list(q.surface_word)] if q.surfaces else np.empty(0)
    return np.array([rsj_idf(n, total) for n in frequencies])


def rerank(base: np.ndarray, m: Matches, q: QueryWords, idf: np.ndarray,
           surface_idf: np.ndarray, pools: np.ndarray | None = None) -> np.ndarray:
    """The candidates' scores: BM25F (``base``) plus the proximity and adjacency bonuses,
    plus the exact-spelling score, times the share of the query's IDF each covers
    (derivations counting in part). ``idf``: of each of ``q.words``; ``surface_idf``: of
    each of ``q.surfaces``; ``pools``: which pool each candidate is of (the exact-spelling
    length norm is each pool's mean length). A query of one word is left as BM25F ranks it."""
    if not q.pairs:
        return base
    n, words = m.n, len(q.words)
    keys = m.text_doc * _APART + m.text_pos
    bonus = np.zeros(n)
    for a, b in q.pairs:
        ka, kb = np.sort(keys[m.text_word == a]), np.sort(keys[m.text_word == b])
        if not len(ka) or not len(kb):
            continue
        at = np.minimum(np.searchsorted(kb, ka - PROXIMITY_WINDOW), len(kb) - 1)
        close = (kb[at] >= ka - PROXIMITY_WINDOW) & (kb[at] <= ka + PROXIMITY_WINDOW)
        near = np.bincount(ka[close] // _APART, minlength=n)
        at = np.minimum(np.searchsorted(kb, ka + 1), len(kb) - 1)
        adjacent = np.bincount(ka[kb[at] == ka + 1] // _APART, minlength=n)
        weight = (idf[a] + idf[b]) / 2
        bonus += np.where(near > 0, near / (near + K1) * weight
                          + ADJACENT_WEIGHT * adjacent / (adjacent + K1) * weight, 0.0)
    spelled = np.zeros(n)
    if len(q.surfaces):
        which = np.concatenate([m.text_surface, m.title_surface])
        docs = np.concatenate([m.text_doc, m.title_doc])[which >= 0]
        # each (candidate, spelling) found, with how often
        pairs, tf = np.unique(docs * len(q.surfaces) + which[which >= 0], return_counts=True)
        doc, surface = pairs // len(q.surfaces), pairs % len(q.surfaces)
        pools = np.zeros(n, np.int64) if pools is None else pools
        mean = np.bincount(pools, weights=m.length) / np.maximum(np.bincount(pools), 1)
        norm = K1 * (1 - B + B * m.length / np.where(mean > 0, mean, 1.0)[pools])
        spelled = np.bincount(doc, weights=surface_idf[surface] * tf * (K1 + 1)
                              / (tf + norm[doc]), minlength=n)
    score = base + PROXIMITY_WEIGHT * bonus + EXACT_WEIGHT * spelled
    if COORDINATION:
        present = np.zeros((n, words), bool)
        present[m.text_doc, m.text_word] = True
        present[m.title_doc, m.title_word] = True
        covered = present @ idf
        if PREFIX_CREDIT and q.heads:
            derived = np.zeros((n, words), bool)
            for h, ws in enumerate(q.head_words):
                for w in ws:
                    derived[:, w] |= m.begins[:, h]
            covered += PREFIX_CREDIT * ((derived & ~present) @ idf)
        score = score * (covered / (idf.sum() or 1.0)) ** COORDINATION
    return score

