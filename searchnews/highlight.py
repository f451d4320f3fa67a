"""Which words of a shown text to mark: those the query matched, whatever their accents,
case or number (``COOPERACIÓN`` for ``cooperacion``, ``norcoreanos`` for ``norcoreano``).

A word is marked when its index term is one of the query's stems, or its folded spelling one
of the words a prefix or fuzzy word expanded to. The forward index knows where each word of a
paragraph starts and which spelling it is (:func:`forward.marked_starts`), so a page of hits
is marked without analysing its text; :class:`Highlighter` analyses the text instead, for
engines and indexes without a forward index.
"""

from __future__ import annotations

from .analysis import WORD_RE, token


def spans_at(text: str, starts: list[int]) -> list[tuple[int, int]]:
    """The spans of the words of ``text`` that start at ``starts``."""
    return [(start, WORD_RE.match(text, start).end()) for start in starts]


class Highlighter:
    """Marks the words of texts whose term is one of ``stems`` or whose folded spelling is one
    of ``words``; each distinct word is analysed once per query, however many hits have it."""

    def __init__(self, stems: set[str], words: set[str] = frozenset()) -> None:
        self.stems, self.words = stems, words
        self._seen: dict[str, bool] = {}

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the marked words of ``text``."""
        if not self.stems and not self.words:
            return []
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
