"""Which words of a shown text to mark: those the query matched, whatever their accents,
case or number (``COOPERACIÓN`` for ``cooperacion``, ``norcoreanos`` for ``norcoreano``).

A word is marked when its index term is one of the query's stems, or its folded spelling one
of the words a prefix or fuzzy word expanded to. Analysing every word of every hit to find
out (stemming included) was most of the time a page of hits took. When the folded spellings
that carry those stems are known (the forward index lists them: :func:`forward.spellings_of`),
the text is folded in one ``str.translate`` — each Latin letter to the ASCII letter it folds
to, one character for one, so positions do not move — and its words are looked up among those
spellings. A text with a word character that does not fold to one letter (a ligature, ß, a
letter of another script) is analysed word by word instead, as is every text of an engine
without a forward index.
"""

from __future__ import annotations

import re
from typing import Iterable

from .analysis import WORD_RE, fold, token


def _fold_table() -> dict[int, str]:
    """Each ASCII capital and each Latin letter that folds to one ASCII letter → that letter."""
    table = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    for cp in range(0xC0, 0x250):
        c = chr(cp)
        if c.isalpha() and len(f := fold(c)) == 1 and f.isascii() and f.isalpha():
            table[cp] = f
    return table


_FOLD = _fold_table()
# a word character the table does not fold: such a text is analysed word by word
_UNFOLDED = re.compile("[^\\W_0-9a-z%s]" % re.escape("".join(map(chr, _FOLD))))


class Highlighter:
    """Marks the words of texts whose term is one of ``stems`` or whose folded spelling is one
    of ``words``; ``spellings``: every folded spelling that carries one of ``stems`` (None:
    unknown, so each word is analysed, once per query however many hits have it)."""

    def __init__(self, stems: set[str], words: set[str] = frozenset(),
                 spellings: Iterable[str] | None = None) -> None:
        self.stems, self.words = stems, words
        self.spellings = None if spellings is None else set(spellings) | set(words)
        self._seen: dict[str, bool] = {}

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the marked words of ``text``."""
        if not self.stems and not self.words:
            return []
        if self.spellings is not None and not _UNFOLDED.search(text):
            marked = self.spellings
            return [m.span() for m in WORD_RE.finditer(text.translate(_FOLD))
                    if m.group() in marked]
        seen, out = self._seen, []
        for m in WORD_RE.finditer(text):
            w = m.group()
            hit = seen.get(w)
            if hit is None:
                found = token(w)
                hit = seen[w] = found is not None and (
                    found[1] in self.stems or found[0] in self.words)
            if hit:
                out.append(m.span())
        return out


def spans(text: str, stems: set[str], words: set[str] = frozenset()) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` whose stemmed term is in ``stems`` or whose
    folded form is in ``words``."""
    return Highlighter(stems, words).spans(text)
