"""Spanish analysis: text → index terms, the same at index and at query time.

One pass per token, in this order (measured in ../shared/NOTES.md):

1. tokenize on word characters (letters and digits; ``*NUMBER*`` → ``number``);
2. lowercase and fold accents with unidecode (``Cooperación`` → ``cooperacion``), so a query
   typed without accents meets accented text — folding before stemming keeps the two identical;
3. drop Spanish stopwords (Whoosh's list, plus the folded spellings);
4. unify singular and plural (:func:`singular`), then stem with Snowball Spanish.

A word's term is cached: news vocabulary is Zipfian, so the cache makes analysis ~2× faster.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator

import snowballstemmer
from unidecode import unidecode
from whoosh.analysis import Token, Tokenizer
from whoosh.lang import stopwords_for_language

WORD_RE = re.compile(r"\w+", re.UNICODE)

# In Whoosh's list as forms of "estar" and "sentir", but nouns that news is about:
# "Estados Unidos", "golpe de Estado", "en ese sentido".
NOT_STOPWORDS = {"estado", "estados", "estada", "estadas", "sentido", "sentidos", "sentida",
                 "sentidas", "sentid", "siente", "sintiendo"}
# Interrogatives missing from Whoosh's list, which stops their kin ("cual", "cuando",
# "quien", "quienes"): in a question, "¿cuántos...?" or "¿cuáles...?" says what kind of answer
# is wanted, not what it is about (+0.001 MRR@10 on squad-es).
MORE_STOPWORDS = {"cuales", "cuanto", "cuanta", "cuantos", "cuantas"}


def _stopwords() -> frozenset[str]:
    """Whoosh's Spanish list (less NOT_STOPWORDS, plus MORE_STOPWORDS), folded too, and
    closed under number: it stops ``algunos`` and ``ellos`` but not ``alguno`` and ``ello``,
    which would break singular = plural."""
    listed = (set(stopwords_for_language("es")) | MORE_STOPWORDS) - NOT_STOPWORDS
    words = {unidecode(w) for w in listed}
    words |= {w[:-1] for w in words if len(w) > 3 and w.endswith(("os", "as"))}
    return frozenset(words | listed)


STOPWORDS = _stopwords()

_CONSONANTS_BEFORE_E = set("bcdfghjklmnpqrstvwxyz")
_stemmer = snowballstemmer.stemmer("spanish")


def fold(word: str) -> str:
    """Lowercase and strip accents: ``Ñandú`` → ``nandu`` (ñ meets n, see the README).

    NFKC first, so compatibility forms (``µ``, ligatures, full-width letters) fold like the
    letters they stand for, whatever their case.
    """
    if word.isascii():
        return word.lower()
    return unidecode(unicodedata.normalize("NFKC", word).lower()).lower()


def singular(folded: str) -> str:
    """Undo regular Spanish plural endings on a folded word, to a fixed point.

    Spanish plurals add ``-s`` after a vowel (``año`` → ``años``) and ``-es`` after a
    consonant (``país`` → ``países``, ``ciudad`` → ``ciudades``), writing ``z`` as ``c``
    (``vez`` → ``veces``). Snowball leaves short pairs apart (``ano``/``anos``) and splits
    some long ones (``ciudad`` → ``ciud`` but ``ciudades`` → ``ciudad``). Stripping a final
    ``s`` and then a final ``e`` after a consonant, repeated until nothing changes, maps a
    word and its regular plural to the same string, because the plural reduces to the
    singular in one round. ``ce`` ends become ``z`` so that ``dulce``/``dulces`` and
    ``luz``/``luces`` agree. Words of three letters or fewer are left alone (``gas``, ``mes``).
    """
    while True:
        word = folded
        if len(word) > 3 and word[-1] == "s":
            word = word[:-1]
        if len(word) > 3 and word[-1] == "e" and word[-2] in _CONSONANTS_BEFORE_E:
            word = word[:-1]
            if word[-1] == "c":
                word = word[:-1] + "z"
        if word == folded:
            return word
        folded = word


_token_cache: dict[str, tuple[str, str] | None] = {}


def token(word: str) -> tuple[str, str] | None:
    """(spelling, term) of one surface word — its folded form and its stemmed index term —
    or None for a stopword. Cached: news vocabulary is Zipfian."""
    try:
        return _token_cache[word]
    except KeyError:
        pass
    folded = fold(word)
    if folded in STOPWORDS:
        result = None
    else:
        result = (folded, folded if folded.isdigit() else _stemmer.stemWord(singular(folded)))
    if len(_token_cache) > 500_000:
        _token_cache.clear()
    _token_cache[word] = result
    return result


def term(word: str, stem: bool = True) -> str | None:
    """The index term of one surface word (``stem=False``: its folded spelling), or None for
    a stopword."""
    found = token(word)
    return None if found is None else found[1 if stem else 0]


def terms(text: str, stem: bool = True) -> list[str]:
    """All index terms of a text, in order (stopwords dropped)."""
    out = []
    for match in WORD_RE.finditer(text):
        t = term(match.group(), stem)
        if t:
            out.append(t)
    return out


QUICK_FOLD = str.maketrans("áéíóúüñàèìòùâêîôûäëïö", "aeiouunaeiouaeiouaeio")


def scan(text: str, stems: set[str]) -> Iterator[tuple[re.Match, int, str | None]]:
    """Each word of ``text`` with its position (as the index counts: stopwords skipped) and
    its term if that term is one of ``stems`` (else None).

    Stemming every word of a paragraph just to find a few is what makes a cold process slow;
    a stem keeps the first two letters of its folded word, so only words starting like one
    of ``stems`` are stemmed.
    """
    heads = {s[:2] for s in stems}
    pos = 0
    for m in WORD_RE.finditer(text):
        quick = m.group().lower().translate(QUICK_FOLD)
        if quick in STOPWORDS:
            continue
        found = None
        if quick[:2] in heads or not quick.isascii():
            t = term(m.group())
            if t is None:
                continue
            found = t if t in stems else None
        yield m, pos, found
        pos += 1


class SpanishTokenizer(Tokenizer):
    """A Whoosh tokenizer that does the whole analysis in one compiled pass.

    ``stem=False`` gives the folded, unstemmed words used for prefix and fuzzy matching.
    It lives in this module (not ``__main__``) because Whoosh pickles the schema.
    """

    def __init__(self, stem: bool = True):
        self.stem = stem

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpanishTokenizer) and other.stem == self.stem

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stem = self.stem
        if not tokenize:
            words = [(value, 0, len(value))]
            matches = iter(words)
        else:
            matches = ((m.group(), m.start(), m.end()) for m in WORD_RE.finditer(value))
        pos = start_pos
        for word, start, end in matches:
            text = term(word, stem)
            if text is None:
                if removestops:
                    continue
                t.stopped = True
                t.text = fold(word)
            else:
                t.stopped = False
                t.text = text
            t.boost = 1.0
            if keeporiginal:
                t.original = word
            if positions:
                t.pos = pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            if text is not None:
                pos += 1
            yield t


def analyzer(stem: bool = True) -> SpanishTokenizer:
    """The analyzer for a Whoosh field (a tokenizer is a complete analyzer in Whoosh)."""
    return SpanishTokenizer(stem=stem)
