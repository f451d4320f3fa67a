"""Which words of a shown text to mark: those the query matched, whatever their accents,
case or number (``COOPERACIÓN`` for ``cooperacion``, ``norcoreanos`` for ``norcoreano``).

A word is marked when its index term is one of the query's stems, or its folded spelling one
of the words a prefix or fuzzy word expanded to. Analysing every word of every hit to find
out (stemming included) was most of the time a page of hits took. When the folded spellings
that carry those stems are known (the forward index lists them: :func:`forward.spellings_of`),
one regular expression per query finds their occurrences instead — each letter of a spelling
standing for every letter that folds to it, in either case — and only the words it finds are
analysed, to confirm them. A text with a word character the expression cannot stand for (a
ligature, a letter of another script) is read word by word as before.
"""

from __future__ import annotations

import re
from typing import Iterable

from .analysis import WORD_RE, fold, token


def _letter_classes() -> dict[str, str]:
    """ASCII letter → a character class of the Latin letters that fold to it."""
    found: dict[str, list[str]] = {}
    for cp in range(0xC0, 0x250):
        c = chr(cp)
        if c.isalpha() and len(f := fold(c)) == 1 and f.isalpha() and f.isascii():
            found.setdefault(f, []).append(c)
    return {f: f"[{f}{''.join(cs)}]" for f, cs in found.items()}


_CLASSES = _letter_classes()
# a word character the classes do not stand for: such a text is read word by word
_UNFOLDED = re.compile("[^\\W_0-9a-zA-Z%s]" % "".join(c for v in _CLASSES.values()
                                                        for c in v[2:-1]))


def _pattern(spelling: str) -> str:
    return "".join(_CLASSES.get(ch, re.escape(ch)) for ch in spelling)


class Highlighter:
    """Marks the words of texts whose term is one of ``stems`` or whose folded spelling is one
    of ``words``; ``spellings``: every folded spelling that can carry one of ``stems`` (None:
    unknown, read each text word by word). Each distinct word is analysed once per query."""

    def __init__(self, stems: set[str], words: set[str] = frozenset(),
                 spellings: Iterable[str] | None = None) -> None:
        self.stems, self.words = stems, words
        self._seen: dict[str, bool] = {}
        self._find = None
        if spellings is not None:
            wanted = sorted(set(spellings) | set(words), key=len, reverse=True)
            self._find = re.compile("(?<!\\w)(?:%s)(?!\\w)" % "|".join(map(_pattern, wanted)),
                                    re.IGNORECASE).finditer if wanted else False

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the marked words of ``text``."""
        if self._find is False or (not self.stems and not self.words):
            return []
        if self._find is not None and not _UNFOLDED.search(text):
            candidates = self._find(text)
        else:
            candidates = WORD_RE.finditer(text)
        seen, out = self._seen, []
        for m in candidates:
            w = m.group()
            marked = seen.get(w)
            if marked is None:
                found = token(w)
                marked = seen[w] = found is not None and (
                    found[1] in self.stems or found[0] in self.words)
            if marked:
                out.append(m.span())
        return out


def spans(text: str, stems: set[str], words: set[str] = frozenset()) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` whose stemmed term is in ``stems`` or whose
    folded form is in ``words``."""
    return Highlighter(stems, words).spans(text)
