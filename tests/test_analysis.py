"""The Spanish analyzer: accents, case, stopwords, singular/plural — on real vocabulary."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchnews.analysis import singular, terms

from .conftest import FAKENEWS, vocabulary

VOCAB = vocabulary()
ACCENTED = [w for w in VOCAB if not w.isascii()]


def strip_accents(word: str) -> str:
    """Accent stripping done independently of the analyzer (NFD, drop combining marks)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def regular_plural(word: str) -> str | None:
    """The regular Spanish plural of a word, by the grammar book; None where there is none."""
    if word[-1] in "aeoáéó" or word[-1] in "iuíú":
        return word + "s"
    if word[-1] == "z":
        return word[:-1] + "ces"
    if word[-1] in "ldnrjy":
        # an accent on the last syllable goes away when a syllable is added: canción → canciones
        base = word[:-2] + strip_accents(word[-2]) + word[-1] if word[-2] in "áéíóú" else word
        return base + "es"
    if word[-1] == "s" and word[-2] in "áéíóú":       # país → países, interés → intereses
        return word[:-2] + strip_accents(word[-2]) + "ses"
    return None


# Content words only: a stopword has no terms, and its "plural" is often no word at all.
PLURALIZABLE = [w for w in VOCAB if len(w) >= 3 and regular_plural(w) and terms(w)]


def test_vocabulary_is_real_and_large():
    # the shared corpora give tens of thousands of words; the sample kept in tests/data, a
    # clone's fallback, a little over two thousand
    least = 10_000 if FAKENEWS.exists() else 2_000
    assert len(VOCAB) > least and len(ACCENTED) > least // 10
    assert len(PLURALIZABLE) > least * 2 // 3


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(ACCENTED))
def test_accentless_spelling_gives_the_same_terms(word):
    assert terms(word) == terms(strip_accents(word))
    assert terms(word.upper()) == terms(word)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(PLURALIZABLE))
def test_regular_plural_gives_the_same_terms(word):
    assert terms(regular_plural(word)) == terms(word)


@pytest.mark.parametrize("singular_form,plural_form", [
    ("año", "años"), ("día", "días"), ("país", "países"), ("ciudad", "ciudades"),
    ("vez", "veces"), ("soldado norcoreano", "soldados norcoreanos"), ("mes", "meses"),
    ("gobierno", "gobiernos"), ("luz", "luces"), ("mujer", "mujeres"),
])
def test_short_and_awkward_plurals(singular_form, plural_form):
    assert terms(singular_form) == terms(plural_form)


def test_stopwords_go_accented_or_not():
    assert terms("el de la que más está") == []
    assert terms("el de la que mas esta") == []


def test_distinct_words_stay_distinct():
    # Unifying number must not merge unrelated words.
    assert len(set(terms("casa cosa paz pan país mes misa gas guerra"))) == 9


def test_singular_is_a_fixed_point():
    for w in PLURALIZABLE[:2000]:
        s = singular(strip_accents(w))
        assert singular(s) == s


def test_compiled_stemmer_in_use_stems_like_the_snowball_reference():
    # PyStemmer (C) does the stemming; snowballstemmer's pure-Python Spanish stemmer is the
    # reference the README's analysis describes: both must give every real word one stem
    from snowballstemmer.spanish_stemmer import SpanishStemmer

    from searchnews import analysis
    assert type(analysis._stemmer).__module__ == "Stemmer"
    reference = SpanishStemmer()
    words = [analysis.singular(analysis.fold(w)) for w in VOCAB]
    assert [analysis._stemmer.stemWord(w) for w in words] == \
        [reference.stemWord(w) for w in words]
