"""The forward index: each paragraph's words in order, kept in its segment's file for
re-ranking (and each paragraph's article, for grouping).

Re-ranking needs, for every candidate paragraph, where the query's words stand in it, which
are spelled as typed, and which words begin like the query's long words. Reading that from
the stored text means analysing each candidate again in Python — most of a query's time when
the pool is deep. So the writer records, per paragraph, the sequence of its words (stopwords
left out: the n-th word is at position n, as the postings count) as ids into a sorted lexicon
of folded spellings, each spelling with its stem; its title's likewise (one copy per article);
and an article number shared by consecutive paragraphs of one article. :class:`PoolReader`
turns a pool of candidates into :class:`searchnews.evidence.Matches` with a few numpy
operations over the lot.
"""

from __future__ import annotations

from array import array
from typing import Iterator, Sequence

import numpy as np

from ... import analysis, duplicates

from . import columnar
from ...evidence import Matches, QueryWords


Tokens = tuple  # (spelling ids, character starts) of a text's words, as two arrays


class Forward:
    """The forward index of a segment being written, a document at a time."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.stems: list[str] = []          # by spelling id (ids in order first seen)
        self.words: dict[str, tuple[int, str, str] | None] = {}   # see word()
        self.text_ends = array("Q")
        self.text, self.text_chars = array("I"), array("I")
        self.title_starts, self.title_ends = array("I"), array("I")
        self.title, self.title_chars = array("I"), array("I")
        self.article = array("I")
        self._last_title: tuple[object, int, int] | None = None
        self._last_article: object = None

    def word(self, word: str) -> tuple[int, str, str] | None:
        """A surface word's (spelling id, spelling, stem), new spellings numbered as they
        come; None for a stopword. Remembered per word: the writer asks for every word."""
        found = analysis.token(word)
        if found is None:
            entry = None
        else:
            spelling, stem = found
            i = self.ids.get(spelling)
            if i is None:
                i = self.ids[spelling] = len(self.stems)
                self.stems.append(stem)
            entry = (i, spelling, stem)
        self.words[word] = entry
        return entry

    def add(self, docnum: int, text: Tokens, title: Tokens | None, article_id: object) -> None:
        """Document ``docnum`` (the next one): its text's and title's words. The same
        ``title`` object as the previous document's is stored once."""
        if docnum != len(self.article):
            raise ValueError(f"forward index: document {docnum} out of order")
        self.text.extend(text[0])
        self.text_chars.extend(text[1])
        self.text_ends.append(len(self.text))
        last = self._last_title
        if last is None or last[0] is not title:
            start = len(self.title)
            if title is not None:
                self.title.extend(title[0])
                self.title_chars.extend(title[1])
            last = self._last_title = (title, start, len(self.title))
        self.title_starts.append(last[1])
        self.title_ends.append(last[2])
        if not self.article or article_id != self._last_article:
            self.article.append(self.article[-1] + 1 if self.article else 0)
        else:
            self.article.append(self.article[-1])
        self._last_article = article_id

    def arrays(self) -> list[tuple[str, np.ndarray]]:
        """The arrays the segment file stores, spelling ids renumbered in sorted order."""
        spellings = [s.encode("utf-8") for s in self.ids]
        order = sorted(range(len(spellings)), key=spellings.__getitem__)
        rank = np.empty(len(order), np.uint32)
        rank[order] = np.arange(len(order), dtype=np.uint32)
        stems = sorted({s.encode("utf-8") for s in self.stems})
        stem_id = {s.decode("utf-8"): i for i, s in enumerate(stems)}
        stem_of = np.array([stem_id[self.stems[i]] for i in order], dtype=np.uint32)

        def renumbered(ids: array) -> np.ndarray:
            return columnar.smallest(rank[np.frombuffer(ids, np.uint32)] if len(ids)
                                     else np.empty(0, np.uint32))

        def offsets(chars: array) -> np.ndarray:
            return columnar.smallest(np.frombuffer(chars, np.uint32))

        text = np.frombuffer(self.text, np.uint32).astype(np.int64)
        docs = np.repeat(np.arange(len(self.text_ends)),
                         np.diff(np.frombuffer(self.text_ends, np.uint64).astype(np.int64),
                                 prepend=0))
        present = np.unique(docs * max(len(order), 1) + text) % max(len(order), 1)
        frequency = np.bincount(present, minlength=len(order)).astype(np.uint32)
        return [*columnar.lexicon("spellings", [spellings[i] for i in order]),
                ("spellings.stem", stem_of),
                ("spellings.paragraphs", frequency[order]),
                *columnar.lexicon("stems", stems),
                ("stems.spelling_ends", np.cumsum(np.bincount(stem_of, minlength=len(stems)),
                                                  dtype=np.uint64)),
                ("stems.spellings", np.argsort(stem_of, kind="stable").astype(np.uint32)),
                ("text.ends", np.frombuffer(self.text_ends, np.uint64)),
                ("text", renumbered(self.text)),
                ("text.chars", offsets(self.text_chars)),
                ("title.starts", np.frombuffer(self.title_starts, np.uint32)),
                ("title.ends", np.frombuffer(self.title_ends, np.uint32)),
                ("title", renumbered(self.title)),
                ("title.chars", offsets(self.title_chars)),
                ("article", np.frombuffer(self.article, np.uint32))]


def _spans(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions covered by several slices laid end to end, and which slice each is of."""
    lengths = (ends - starts).astype(np.int64)
    which = np.repeat(np.arange(len(lengths)), lengths)
    before = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) - before[which] + starts.astype(np.int64)[which], which


def _gather(starts: np.ndarray, ends: np.ndarray, tokens: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tokens of several slices laid end to end: (tokens, which slice, position in it)."""
    at, which = _spans(starts, ends)
    return tokens[at], which, at - starts.astype(np.int64)[which]


def _label(tokens: np.ndarray, keys: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each token, the label of the equal key (keys sorted), or -1."""
    if not len(keys):
        return np.full(len(tokens), -1, np.int64)
    at = np.minimum(np.searchsorted(keys, tokens), len(keys) - 1)
    return np.where(keys[at] == tokens, labels[at], -1)


class SegmentForward:
    """One segment's forward index, read in place from its file's arrays."""

    def __init__(self, columns: columnar.SegmentColumns) -> None:
        a = columns.arrays
        self.spellings, self.stems = columns.spellings, columns.stems
        self.stem_spelling_ends, self.stem_spellings = a["stems.spelling_ends"], \
            a["stems.spellings"]
        self.text_ends, self.text = a["text.ends"], a["text"]
        self.title_starts, self.title_ends, self.title = a["title.starts"], a["title.ends"], \
            a["title"]
        self.text_chars, self.title_chars = a["text.chars"], a["title.chars"]
        self.frequency = a["spellings.paragraphs"]
        self.article = a["article"]
        self.article_base = 0           # added to ``article`` across a searcher's segments
        self._lookups: dict[QueryWords, tuple] = {}
        self._spelled: dict[tuple[frozenset, frozenset], np.ndarray] = {}
        self._codes: np.ndarray | None = None

    def codes(self) -> np.ndarray:
        """Each spelling as a number: its first 8 bytes, its length mixed into the top byte
        (:func:`duplicates.code`), the same in every segment."""
        if self._codes is None:
            lengths = np.diff(self.spellings.ends.astype(np.int64), prepend=0)
            self._codes = self.spellings.p8 ^ (lengths.astype(np.uint64) << np.uint64(56))
        return self._codes

    def spelling_ids(self, stems: frozenset[str], words: frozenset[str]) -> np.ndarray:
        """The ids (sorted) of the spellings that carry one of ``stems`` or are one of
        ``words``."""
        key = (stems, words)
        found = self._spelled.get(key)
        if found is None:
            parts = [np.array([i for i in self.spellings.find(
                [w.encode("utf-8") for w in words]) if i >= 0], np.int64)]
            for stem in self.stems.find([t.encode("utf-8") for t in stems]):
                if stem >= 0:
                    lo = int(self.stem_spelling_ends[stem - 1]) if stem else 0
                    parts.append(self.stem_spellings[lo:int(self.stem_spelling_ends[stem])]
                                 .astype(np.int64))
            found = np.unique(np.concatenate(parts))
            if len(self._spelled) > 64:
                self._spelled.clear()
            self._spelled[key] = found
        return found

    def _lookup(self, q: QueryWords) -> tuple:
        """The query in this segment's ids: for each spelling id, the query word it is a
        spelling of and the beginning it starts with (-1: none), as two tables; the ids of
        its surfaces (sorted) with their surface. Kept for the query's next pools."""
        found = self._lookups.get(q)
        if found is None:
            small = np.int16 if max(len(q.words), len(q.heads)) < 2 ** 15 else np.int32
            words = np.full(len(self.spellings), -1, small)
            for w, stem in enumerate(self.stems.find([t.encode("utf-8") for t in q.words])):
                if stem >= 0:
                    lo = int(self.stem_spelling_ends[stem - 1]) if stem else 0
                    words[self.stem_spellings[lo:int(self.stem_spelling_ends[stem])]] = w
            heads = None
            if q.heads:
                heads = np.full(len(self.spellings), -1, small)
                for h, head in enumerate(q.heads):
                    lo, hi = self.spellings.prefixed(head.encode("utf-8"))
                    heads[lo:hi] = h          # distinct beginnings: disjoint ranges
            surfaces = self.spellings.find([s.encode("utf-8") for s in q.surfaces])
            present = sorted((i, n) for n, i in enumerate(surfaces) if i >= 0)
            found = (words, heads, (np.array([i for i, _ in present], np.int64),
                                    np.array([n for _, n in present], np.int64)))
            if len(self._lookups) >= 4:       # tables as long as the lexicon: keep few
                self._lookups.pop(next(iter(self._lookups)))
            self._lookups[q] = found
        return found

    def text_bounds(self, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the words of documents ``local`` start and end in :attr:`text`."""
        ends = self.text_ends[local].astype(np.int64)
        return np.where(local > 0, self.text_ends[local - 1], 0).astype(np.int64), ends

    def pool(self, local: np.ndarray, q: QueryWords) -> tuple:
        """The evidence of this segment's candidates ``local`` (numbered in this order):
        the text entries (candidate, position, word, surface), the title entries (candidate,
        word, surface), each candidate's length, and (candidate, beginning) pairs found."""
        words, heads, (surface_ids, surface_of) = self._lookup(q)
        starts, ends = self.text_bounds(local)
        t_starts, t_ends = self.title_starts[local], self.title_ends[local]
        out = []
        begun = []
        for tokens, first, last in ((self.text, starts, ends), (self.title, t_starts, t_ends)):
            at, which = _spans(first, last)
            found = tokens[at]
            word = words[found]
            if heads is not None:
                head = heads[found]
                hit = head >= 0
                begun.append((which[hit], head[hit]))
            keep = word >= 0
            kept = which[keep]
            out.append((kept, at[keep] - first[kept], word[keep],
                        _label(found[keep], surface_ids, surface_of)))
        length = (ends - starts) + (t_ends.astype(np.int64) - t_starts)
        (t_doc, t_pos, t_word, t_surface), (h_doc, _, h_word, h_surface) = out
        return (t_doc, t_pos, t_word, t_surface), (h_doc, h_word, h_surface), length, begun


def _segments(columns: columnar.Columns) -> list[tuple[SegmentForward, int]]:
    """The searcher's segments' forward indexes with their docnum offsets, opened once."""
    found = getattr(columns, "_forward", None)
    if found is None:
        found = columns._forward = [(SegmentForward(c), offset)
                                    for c, offset, _ in columns.segments]
        base = 0                    # article numbers made distinct across segments
        for f, _ in found:
            f.article_base = base
            base += int(f.article[-1]) + 1 if len(f.article) else 0
        columns._forward_offsets = np.array([offset for _, offset in found], np.int64)
    return found


def pool_matches(columns: columnar.Columns, docs: np.ndarray, q: QueryWords) -> Matches:
    """The evidence for global docnums ``docs`` (candidates numbered in this order)."""
    length = np.zeros(len(docs))
    begins = np.zeros((len(docs), len(q.heads)), bool)
    text, title = [], []
    for where, f, local, _ in _by_segment(columns, docs):
        (doc, pos, word, surface), (h_doc, h_word, h_surface), size, begun = f.pool(local, q)
        text.append((where[doc], pos, word, surface))
        title.append((where[h_doc], h_word, h_surface))
        length[where] = size
        for which, head in begun:
            begins[where[which], head] = True
    t_doc, t_pos, t_word, t_surface = (np.concatenate(x) for x in zip(*text)) if text else \
        (np.empty(0, np.int64),) * 4
    h_doc, h_word, h_surface = (np.concatenate(x) for x in zip(*title)) if title else \
        (np.empty(0, np.int64),) * 3
    return Matches(len(docs), t_doc, t_pos, t_word, t_surface, h_doc, h_word, h_surface,
                   length, begins)


def article_keys(columns: columnar.Columns, docs: np.ndarray) -> np.ndarray:
    """A number per document, the same for the paragraphs of one article and different
    across articles (an article's paragraphs are written together, into one segment)."""
    out = np.empty(len(docs), np.int64)
    for where, f, local, _ in _by_segment(columns, docs):
        out[where] = f.article[local].astype(np.int64) + f.article_base
    return out


def article_spans(columns: columnar.Columns, docs: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """For each docnum, the docnums from ``start`` to ``end`` (excluded) of the paragraphs
    of its article (deleted ones included): an article's paragraphs are consecutive."""
    starts, ends = np.empty(len(docs), np.int64), np.empty(len(docs), np.int64)
    for where, f, local, offset in _by_segment(columns, docs):
        number = f.article[local]
        starts[where] = np.searchsorted(f.article, number, "left") + offset
        ends[where] = np.searchsorted(f.article, number, "right") + offset
    return starts, ends


def _by_segment(columns: columnar.Columns, docs: Sequence[int]
                ) -> Iterator[tuple[np.ndarray, SegmentForward, np.ndarray, int]]:
    """For each segment that holds some of the global docnums ``docs``: which of them
    (indices into ``docs``), the segment's forward index, their local docnums, and the
    segment's first docnum."""
    segments = _segments(columns)
    docs = np.asarray(docs, np.int64)
    seg = np.searchsorted(columns._forward_offsets, docs, "right") - 1
    order = np.argsort(seg, kind="stable")
    for where in np.split(order, np.flatnonzero(np.diff(seg[order])) + 1) if len(docs) else []:
        f, offset = segments[int(seg[where[0]])]
        yield where, f, docs[where] - offset, offset


def marked_starts(columns: columnar.Columns, docs: Sequence[int],
                  marks: dict[str, tuple[frozenset[str], frozenset[str]]],
                  codes: bool = False) -> dict[str, list[list[int]]]:
    """For each document and each field of ``marks`` (``"text"``, ``"title"``: the stems
    and the spellings to mark), where each word to highlight starts in it (characters), read
    from the forward index rather than by analysing the text again; with ``codes``, under
    ``"codes"`` too each document's :func:`duplicates.signature`."""
    out: dict[str, list[list[int]]] = {f: [[] for _ in range(len(docs))]
                                       for f in [*marks, *(["codes"] if codes else [])]}
    for where, f, local, _ in _by_segment(columns, docs):
        fields = {"text": (*f.text_bounds(local), f.text, f.text_chars),
                  "title": (f.title_starts[local], f.title_ends[local], f.title, f.title_chars)}
        gathered = {}
        for field in {*marks, *(["text"] if codes else [])}:
            starts, ends, tokens, _ = fields[field]
            gathered[field] = _gather(starts, ends, tokens)
        for field, (stems, words) in marks.items():
            found, which, within = gathered[field]
            starts, chars = fields[field][0], fields[field][3]
            marked = f.spelling_ids(stems, words)
            at = np.minimum(np.searchsorted(marked, found), max(len(marked) - 1, 0))
            hit = marked[at] == found if len(marked) else np.zeros(len(found), bool)
            first = starts.astype(np.int64)[which[hit]] + within[hit]
            for doc, char in zip(where[which[hit]].tolist(), chars[first].tolist()):
                out[field][doc].append(char)
        if codes:                 # the text's words, already gathered, as duplicate codes
            starts, ends = fields["text"][:2]
            words = f.codes()[gathered["text"][0]]
            pairs = words[:-1] * np.uint64(duplicates.PAIR) + words[1:]   # mod 2**64
            lengths = ends - starts
            bounds = np.cumsum(lengths)
            for doc, end, n in zip(where.tolist(), bounds.tolist(), lengths.tolist()):
                out["codes"][doc] = frozenset(pairs[end - n:end - 1].tolist()) if n > 1 \
                    else frozenset(words[end - n:end].tolist())
    return out


def spelling_frequencies(columns: columnar.Columns, spellings: Sequence[str]) -> list[int]:
    """In how many paragraphs' text each folded spelling is (deleted ones included, as
    Whoosh counts a term's documents)."""
    out = [0] * len(spellings)
    for f, _ in _segments(columns):
        found = f.spellings.find([w.encode("utf-8") for w in spellings])
        for k, i in enumerate(found):
            if i >= 0:
                out[k] += int(f.frequency[i])
    return out
