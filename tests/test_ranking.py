"""Ranking signals a user notices, on the seed article (one article, paragraph by paragraph)."""

from __future__ import annotations

from searchnews.analysis import terms


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
