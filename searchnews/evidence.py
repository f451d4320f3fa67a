"""What re-ranking reads of each candidate paragraph: where the query's words stand in its
text, which of them are spelled as typed, which are in its title, how long it is, and which
beginnings of the query's long words begin one of its words.

Two sources give the same evidence. The forward index that the writer keeps in each segment
(:mod:`searchnews.engines.whoosh.forward`: every paragraph's words in order, as ids of their
folded spellings, each spelling with its stem) answers for a whole pool of candidates at once
with numpy, so a query never analyses stored text again; :func:`from_text` analyses the
stored text instead, for engines and indexes without a forward index (the Sphinx engine,
segments written by an older searchnews). Tests hold the two equal on real text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .analysis import WORD_RE, term, token

PREFIX_LENGTH = 5          # letters a word shares with its derivations ("econo-mía/-mico")


@dataclass(frozen=True)
class QueryWords:
    """The query as re-ranking sees it: its distinct words (stems, in typed order), the pairs
    of words typed next to each other, the typed spellings of its words, and the beginnings of
    its long words (a word of more than PREFIX_LENGTH letters: its first PREFIX_LENGTH)."""

    words: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]           # indices into ``words``
    surfaces: tuple[str, ...]                    # folded, sorted
    surface_word: tuple[int, ...]                # the word each surface is a spelling of
    heads: tuple[str, ...]                       # sorted
    head_words: tuple[tuple[int, ...], ...]      # the words each beginning is of

    @classmethod
    def of(cls, words: Sequence[str], surfaces: frozenset[str] = frozenset()) -> "QueryWords":
        """From the query's words as typed (stems, in order, repeats allowed) and its plain
        words folded; a surface whose stem is not one of ``words`` (a word of a phrase, a
        field) is left out, as are stopwords."""
        unique = tuple(dict.fromkeys(words))
        index = {w: i for i, w in enumerate(unique)}
        pairs = tuple(dict.fromkeys((index[a], index[b]) for a, b in zip(words, words[1:])
                                    if a != b))
        typed = sorted((s, index[t]) for s in surfaces if (t := term(s)) in index)
        heads: dict[str, set[int]] = {}
        for s, w in typed:
            if len(s) > PREFIX_LENGTH:
                heads.setdefault(s[:PREFIX_LENGTH], set()).add(w)
        return cls(unique, pairs, tuple(s for s, _ in typed), tuple(w for _, w in typed),
                   tuple(sorted(heads)), tuple(tuple(sorted(heads[h])) for h in sorted(heads)))


@dataclass
class Matches:
    """The evidence for ``n`` candidates: one entry per occurrence of a query word in a
    candidate's text (candidate, position, word, surface or -1) or title (candidate, word,
    surface), each candidate's length in words (text and title) and, per beginning of
    :attr:`QueryWords.heads`, whether one of its words (text or title) starts with it."""

    n: int
    text_doc: np.ndarray
    text_pos: np.ndarray
    text_word: np.ndarray
    text_surface: np.ndarray
    title_doc: np.ndarray
    title_word: np.ndarray
    title_surface: np.ndarray
    length: np.ndarray
    begins: np.ndarray                 # (n, len(heads)) booleans

    def entries(self) -> tuple:
        """Everything as plain, comparable values (for tests)."""
        return (self.n, *(a.tolist() for a in (
            self.text_doc, self.text_pos, self.text_word, self.text_surface, self.title_doc,
            self.title_word, self.title_surface, self.length, self.begins)))


def from_text(fields: Sequence[tuple[str, str]], q: QueryWords) -> Matches:
    """The evidence from each candidate's (text, title), analysed as the indexer does."""
    index = {w: i for i, w in enumerate(q.words)}
    surface = {s: i for i, s in enumerate(q.surfaces)}
    heads = {h: i for i, h in enumerate(q.heads)} if q.heads else None
    text: list[tuple[int, int, int, int]] = []
    title: list[tuple[int, int, int, int]] = []
    length = np.zeros(len(fields))
    begins = np.zeros((len(fields), len(q.heads)), bool)
    for doc, pair in enumerate(fields):
        for out, value in zip((text, title), pair):
            pos = 0
            for m in WORD_RE.finditer(value or ""):
                found = token(m.group())
                if found is None:
                    continue
                spelling, stem = found
                if heads is not None and (h := heads.get(spelling[:PREFIX_LENGTH])) is not None:
                    begins[doc, h] = True
                w = index.get(stem)
                if w is not None:
                    out.append((doc, pos, w, surface.get(spelling, -1)))
                pos += 1
            length[doc] += pos
    t = np.array(text, dtype=np.int64).reshape(-1, 4)
    h = np.array(title, dtype=np.int64).reshape(-1, 4)
    return Matches(len(fields), t[:, 0], t[:, 1], t[:, 2], t[:, 3], h[:, 0], h[:, 2], h[:, 3],
                   length, begins)
