"""The vocabulary's fuzzy lookup (fuzzy words, "did you mean") on real news vocabulary: the
words a typo is near, as a plain edit distance defines them."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from searchnews.analysis import fold
from searchnews.vocabulary import Vocabulary

from .conftest import vocabulary

WORDS = vocabulary()
VOCAB = Vocabulary()
VOCAB.add(Counter({w: 1 + len(w) % 7 for w in WORDS}))
FOLDED = sorted(VOCAB.counts)


def distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b, by the textbook
    dynamic programme (optimal string alignment)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


typo = st.tuples(st.sampled_from(FOLDED), st.integers(0, 30), st.sampled_from("aeiosnrx"),
                 st.sampled_from(["drop", "swap", "replace", "add"]))


def _mangle(word: str, at: int, letter: str, how: str) -> str:
    i = at % len(word)
    if how == "drop":
        return word[:i] + word[i + 1:]
    if how == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if how == "replace":
        return word[:i] + letter + word[i + 1:]
    return word[:i] + letter + word[i:]


@settings(max_examples=150, deadline=None)
@given(typo, st.sampled_from([(1, 1), (2, 2), (1, 0)]))
def test_near_finds_every_indexed_word_within_the_distance(case, limits):
    word = _mangle(*case) or case[0]
    maxdist, prefix = limits
    # (words whose lengths differ by more than maxdist are farther than that: not measured)
    expected = sorted((w for w in FOLDED if w[:prefix] == word[:prefix] and w != word
                       and abs(len(w) - len(word)) <= maxdist and distance(word, w) <= maxdist),
                      key=lambda w: (-VOCAB.counts[w], w))
    assert VOCAB.near(word, maxdist, prefix) == expected


def test_a_typo_finds_the_word_it_was_meant_to_be():
    assert "gobierno" in VOCAB.near(fold("gobirno"), 1)        # in the sample and the corpora
    assert "gobierno" in VOCAB.near(fold("goibernó"), 1)       # swapped neighbours, an accent
    assert VOCAB.near("zzzzzzqqq", 2, 2) == []
