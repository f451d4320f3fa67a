"""A whole real corpus: ../shared/corpora/fakenews_es (skipped, with the reason, without it)."""

from __future__ import annotations

import json

from .conftest import FAKENEWS, needs_corpora


@needs_corpora
def test_fakenews_indexes_whole_and_gives_sensible_snippets(fakenews_index):
    with open(FAKENEWS, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    stats = fakenews_index.stats()
    assert stats["paragraphs"] == len(records)
    assert stats["articles"] == len({r["article_id"] for r in records})
    hits = fakenews_index.search("vacuna contra el coronavirus", limit=10)
    assert len(hits) == 10
    for h in hits:
        marked = {h.text[s:e].lower() for s, e in h.highlights}
        assert marked & {"vacuna", "vacunas", "coronavirus"}, (h.text, marked)
    assert all(h.source for h in hits)


@needs_corpora
def test_fakenews_accents_and_number_in_queries(fakenews_index):
    accented = {(h.article_id, h.paragraph) for h in fakenews_index.search("elección", limit=30)}
    plain = {(h.article_id, h.paragraph) for h in fakenews_index.search("ELECCIONES", limit=30)}
    assert accented == plain and len(accented) == 30


@needs_corpora
def test_fakenews_headline_finds_its_article(fakenews_index):
    with open(FAKENEWS.parent / "queries_headline.jsonl", encoding="utf-8") as fh:
        queries = [json.loads(line) for line in fh][:200]
    found = sum(q["article_id"] in {h.article_id for h in fakenews_index.search(q["query"], limit=3,
                                                                        syntax=False)}
                for q in queries)
    assert found >= 0.9 * len(queries)       # titles are indexed, so nearly always
