"""Ranking signals a user notices, on the seed article (one article, paragraph by paragraph),
and the vectorised scores held to the formula written plainly."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from searchnews.engines.whoosh import columnar, forward
from searchnews.analysis import terms, token
from searchnews.evidence import PREFIX_LENGTH, QueryWords
from searchnews.ranking import (ADJACENT_WEIGHT, B, COORDINATION, EXACT_WEIGHT, K1,
                                PREFIX_CREDIT, PROXIMITY_WEIGHT, PROXIMITY_WINDOW, rerank,
                                spelling_idf)
from searchnews.errors import QueryError
from searchnews.engines.whoosh.backend import WhooshBackend
from searchnews.query import parse

from .conftest import DATA


def _paragraphs(ix, query, limit=3):
    return ix.search(query, limit=limit, group=False)


def test_a_derivation_of_a_missing_word_counts(seed_index):
    # "diplomacia" is nowhere in the article; the paragraph on "movimientos diplomáticos"
    # toward Pyongyang is the one about diplomacy, though the stemmer keeps the two apart
    assert terms("diplomacia") != terms("diplomáticos")
    hits = _paragraphs(seed_index, "diplomacia Pyongyang")
    assert "diplomáticos" in hits[0].text and "Pyongyang" in hits[0].text


def test_a_misspelt_word_in_a_longer_query_is_searched_as_suggested(seed_index):
    hits = _paragraphs(seed_index, "Pyongyng Ucrania", limit=4)
    # "Pyongyng" is in no paragraph: its suggestion Pyongyang is searched beside it, so the
    # paragraph with both comes first and Pyongyang's paragraphs outrank Ucrania's alone
    assert "Pyongyang" in hits[0].text and "Ucrania" in hits[0].text
    assert sum("Pyongyang" in h.text for h in hits) >= 3
    assert hits.suggestion == "Pyongyang Ucrania"      # the user is still told
    assert not _paragraphs(seed_index, "Pyongyng")      # one unknown word finds nothing


def test_interrogatives_are_not_topic_words():
    assert terms("¿Cuántos soldados?") == terms("soldados")
    assert terms("cuáles cuánta cuantas") == []


def _reference(fields, words, surfaces, idf, surface_idf, base):
    """The re-ranking formula of ranking.py's docstring, written plainly, one candidate at a
    time over its analysed text: the oracle the vectorised scores must equal."""
    pairs = list(dict.fromkeys((a, b) for a, b in zip(words, words[1:]) if a != b))
    if not pairs:                  # one word: BM25F's order
        return list(base)
    unique = list(dict.fromkeys(words))
    heads = {}
    for s in surfaces:
        t = token(s)
        if t and t[1] in unique and len(s) > PREFIX_LENGTH:
            heads.setdefault(t[1], set()).add(s[:PREFIX_LENGTH])
    read = []
    for text, title in fields:
        positions, exact, spellings, length, in_title = {}, {}, set(), 0, set()
        for part, value in (("text", text), ("title", title)):
            for w in re.findall(r"\w+", value):
                t = token(w)
                if t is None:
                    continue
                spellings.add(t[0])
                if t[1] in unique:
                    if part == "text":
                        positions.setdefault(t[1], []).append(length)
                    else:
                        in_title.add(t[1])
                    if t[0] in surfaces:
                        exact[t[0]] = exact.get(t[0], 0) + 1
                length += part == "text"
            if part == "title":
                length += sum(1 for w in re.findall(r"\w+", value) if token(w))
        read.append((positions, exact, spellings, length, in_title))
    mean = sum(r[3] for r in read) / len(read)
    out = []
    for (positions, exact, spellings, length, in_title), score in zip(read, base):
        bonus = 0.0
        for a, b in pairs:
            pa, pb = positions.get(a, []), positions.get(b, [])
            near = sum(1 for p in pa if any(abs(p - q) <= PROXIMITY_WINDOW for q in pb))
            adjacent = sum(1 for p in pa if p + 1 in pb)
            weight = (idf[a] + idf[b]) / 2
            if near:
                bonus += near / (near + K1) * weight
                bonus += ADJACENT_WEIGHT * adjacent / (adjacent + K1) * weight
        norm = K1 * (1 - B + B * length / mean)
        spelled = sum(surface_idf[s] * tf * (K1 + 1) / (tf + norm) for s, tf in exact.items())
        score += PROXIMITY_WEIGHT * bonus + EXACT_WEIGHT * spelled
        present = set(positions) | in_title
        covered = sum(idf[w] for w in present)
        covered += PREFIX_CREDIT * sum(idf[w] for w, hs in heads.items() if w not in present
                                       and any(s[:PREFIX_LENGTH] in hs for s in spellings))
        out.append(score * (covered / sum(idf[w] for w in unique)) ** COORDINATION)
    return out


def test_the_vectorised_ranking_computes_the_formula(sample_index):
    """Scores from the forward index equal the formula evaluated word by word on the
    candidates' text, for real queries: headlines and phrases from the sample."""
    records = [json.loads(x) for x in (DATA / "fakenews_es_sample.jsonl").read_text(
        encoding="utf-8").splitlines()]
    queries = [r["title"] for r in records[::9]] + \
        [" ".join(r["text"].split()[3:9]) for r in records[::13]] + ["soldado norcoreano Kursk"]
    compared = 0
    with sample_index.searcher() as s:
        columns = columnar.Columns.of(s)
        for text in queries:
            try:
                parsed = parse(WhooshBackend(s), text, syntax=False)
            except QueryError:          # no searchable word in it
                continue
            q = QueryWords.of(parsed.words, parsed.surfaces)
            docs, base = columns.top(parsed.q_any, 80)
            idf = np.array([s.idf("text", w) for w in q.words])
            sidf = spelling_idf(q, idf, forward.spelling_frequencies(columns, q.surfaces),
                                s.doc_count_all())
            ours = rerank(base, forward.pool_matches(columns, docs, q), q, idf, sidf)
            fields = [(d["text"], d.get("title") or "") for d in map(s.stored_fields, docs.tolist())]
            theirs = _reference(fields, parsed.words, set(q.surfaces),
                                dict(zip(q.words, idf)), dict(zip(q.surfaces, sidf)), base)
            assert ours.tolist() == pytest.approx(theirs, rel=1e-9), text
            compared += len(docs) if q.pairs else 0
    assert compared > 1000
