"""Each segment's title and text postings as flat arrays, and BM25F over them with numpy.

Whoosh evaluates a query one posting at a time in Python: its matchers decompress and unpickle
every block (positions included) and score each posting through several method calls. At a
million paragraphs a query of common words ("gobierno mexicano") walks 10⁵ postings per word
and field, and that alone takes 80-280 ms (measured on bench/'s 1M index). Ranking needs each
posting's document, term frequency and, for phrases, positions, so
:class:`.writer.BulkWriter` writes them, per term, as plain arrays in one more
file of the segment (``.cols``, packed into the compound file with the rest and deleted with
it; Whoosh's own postings of title and text keep the frequency only), beside the forward index
(forward.py). Here every query the parser makes — words, phrases with or without slop, AND, OR,
NOT, ANDMAYBE, outlets — is scored from those arrays with the very formula and statistics
Whoosh's BM25F uses, so the ranking is the same (tests compare them on an index whose Whoosh
postings keep positions); a segment without the file (an older index) is left to Whoosh.
"""

from __future__ import annotations

import json
import mmap
import struct
from typing import Iterable, Sequence

import numpy as np
from whoosh import query as Q
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.columns import NumericColumn
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from ... import ranking

EXT = ".cols"
FIELDS = ("title", "text")        # the scored text fields, positions kept
IDS = ("source",)                 # fields of whole values: documents only, weight 1
_MAGIC = b"SNCOLS03"
_ALIGN = 8
_KEY = 2 ** 32                     # paragraph × _KEY + position: one phrase key
_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class Unsupported(Exception):
    """The query has a part only Whoosh evaluates."""


def prefix8(words: Sequence[bytes]) -> np.ndarray:
    """Each byte string's first 8 bytes (zero-padded) as a big-endian number: sorted strings
    give non-decreasing numbers, so one ``np.searchsorted`` narrows a lookup to the few
    entries sharing those bytes."""
    return np.frombuffer(b"".join(w[:8].ljust(8, b"\0") for w in words), dtype=">u8"
                         ).astype(np.uint64)


def smallest(values: np.ndarray) -> np.ndarray:
    """Unsigned values in 2 bytes each when they fit, else 4."""
    return values.astype(np.uint16 if not len(values) or int(values.max()) < 2 ** 16
                         else np.uint32)


def lexicon(name: str, words: Sequence[bytes]) -> list[tuple[str, np.ndarray]]:
    """The arrays of a sorted list of byte strings: where each ends, their bytes, and their
    :func:`prefix8` numbers."""
    return [(f"{name}.ends", np.cumsum([len(w) for w in words], dtype=np.uint64)),
            (f"{name}.bytes", np.frombuffer(b"".join(words), np.uint8)),
            (f"{name}.p8", prefix8(words))]


def write(out, terms: Iterable[tuple[str, bytes, Sequence[int], Sequence[float], Sequence[int]]],
          more: Sequence[tuple[str, np.ndarray]] = ()) -> None:
    """Write a segment's arrays to the open file ``out`` and close it.

    Postings: (field, term, docnums, weights, positions) of the FIELDS' terms, each field's
    terms sorted; a posting's weight is its number of positions, so positions need no
    offsets. ``more``: named arrays stored beside them (the forward index, forward.py).
    Layout: magic, the length of a JSON table of contents, the table (array name → dtype,
    offset, count; field → its range of terms), then the arrays, 8-byte aligned.
    """
    kept = FIELDS + IDS
    wanted = sorted((kept.index(f), tbytes, ids, ws, poses)
                    for f, tbytes, ids, ws, poses in terms if f in kept)
    ranges, at = {}, 0
    for i, name in enumerate(kept):
        n = sum(1 for w in wanted if w[0] == i)
        ranges[name] = [at, at + n]
        at += n
    docnums = [np.asarray(ids, dtype=np.uint32) for _, _, ids, _, _ in wanted]
    weights = [np.asarray(ws, dtype=np.float32) for _, _, _, ws, _ in wanted]
    positions = [np.asarray(poses, dtype=np.uint32) for _, _, _, _, poses in wanted]
    for (f, tbytes, _, _, _), w, p in zip(wanted, weights, positions):
        if f < len(FIELDS) and int(w.sum()) != len(p):
            raise ValueError(f"term {tbytes!r}: weights do not count its positions")
    empty = np.empty(0, np.uint32)
    arrays = [*lexicon("terms", [w[1] for w in wanted]),
              ("terms.post_ends", np.cumsum([len(d) for d in docnums], dtype=np.uint64)),
              ("terms.pos_ends", np.cumsum([len(p) for p in positions], dtype=np.uint64)),
              ("docnums", np.concatenate(docnums) if docnums else empty),
              ("weights", np.concatenate(weights) if weights else empty.astype(np.float32)),
              ("positions", smallest(np.concatenate(positions) if positions else empty)),
              *more]
    toc, offset = {}, 0
    for name, arr in arrays:
        toc[name] = [arr.dtype.str, offset, len(arr)]
        offset += -(-arr.nbytes // _ALIGN) * _ALIGN
    head = json.dumps({"arrays": toc, "fields": ranges}).encode()
    head += b" " * (-(len(_MAGIC) + 8 + len(head)) % _ALIGN)
    out.write(_MAGIC + struct.pack("<Q", len(head)) + head)
    for _, arr in arrays:
        out.write(arr.tobytes())
        out.write(b"\0" * (-arr.nbytes % _ALIGN))
    out.close()


class Lexicon:
    """A sorted list of byte strings in a segment file, looked up without decoding it."""

    def __init__(self, ends: np.ndarray, data: memoryview, p8: np.ndarray) -> None:
        self.ends, self.data, self.p8 = ends, data, p8
        self._known: dict[tuple[bytes, int, int], int] = {}
        self._ranges: dict[bytes, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int) -> bytes:
        return bytes(self.data[int(self.ends[i - 1]) if i else 0:int(self.ends[i])])

    def find(self, words: Sequence[bytes], lo: int = 0, hi: int | None = None) -> list[int]:
        """The index of each word among entries ``lo:hi`` (-1 when absent). Answers are
        remembered: a query looks its words up for postings, forward index and highlights."""
        hi = len(self) if hi is None else hi
        known = self._known
        todo = [w for w in words if (w, lo, hi) not in known]
        if todo:
            if len(known) > 100_000:
                known.clear()
            if lo >= hi:
                known.update(((w, lo, hi), -1) for w in todo)
            else:
                keys = prefix8(todo)
                first = np.searchsorted(self.p8[lo:hi], keys, "left") + lo
                last = np.searchsorted(self.p8[lo:hi], keys, "right") + lo
                for word, a, b in zip(todo, first.tolist(), last.tolist()):
                    while a < b and self[a] < word:     # the few entries sharing 8 bytes
                        a += 1
                    known[word, lo, hi] = a if a < b and self[a] == word else -1
        return [known[w, lo, hi] for w in words]

    def prefixed(self, prefix: bytes) -> tuple[int, int]:
        """The range of entries that start with ``prefix`` (at most 8 bytes), remembered."""
        found = self._ranges.get(prefix)
        if found is None:
            if len(prefix) > 8:
                raise ValueError("prefix longer than 8 bytes")
            low, high = prefix8([prefix, prefix.ljust(8, b"\xff")])
            found = (int(np.searchsorted(self.p8, low, "left")),
                     int(np.searchsorted(self.p8, high, "right")))
            if len(self._ranges) > 10_000:
                self._ranges.clear()
            self._ranges[prefix] = found
        return found


class SegmentColumns:
    """One segment's file, read in place (views of the mapped file, nothing copied)."""

    def __init__(self, buf) -> None:
        if bytes(buf[:len(_MAGIC)]) != _MAGIC:
            raise ValueError(f"not a searchnews segment file (magic {bytes(buf[:8])!r})")
        (size,) = struct.unpack_from("<Q", buf, len(_MAGIC))
        start = len(_MAGIC) + 8
        toc = json.loads(bytes(buf[start:start + size]))
        base = start + size
        self.arrays = {name: np.frombuffer(buf, np.dtype(dtype), count, base + offset)
                       for name, (dtype, offset, count) in toc["arrays"].items()}
        self.fields: dict[str, list[int]] = toc["fields"]
        a = self.arrays
        self.terms, self.spellings, self.stems = (
            Lexicon(a[f"{n}.ends"], memoryview(a[f"{n}.bytes"]), a[f"{n}.p8"])
            for n in ("terms", "spellings", "stems"))
        self.post_ends, self.pos_ends = a["terms.post_ends"], a["terms.pos_ends"]
        self.docnums, self.weights, self.positions = a["docnums"], a["weights"], a["positions"]

    def postings(self, fieldname: str, tbytes: bytes
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(docnums, weights, positions) of a field's term; each posting's positions follow
        the previous one's."""
        (i,) = self.term_ids(fieldname, [tbytes])
        if i < 0:
            return None
        start, end = (int(self.post_ends[i - 1]) if i else 0), int(self.post_ends[i])
        first, last = (int(self.pos_ends[i - 1]) if i else 0), int(self.pos_ends[i])
        return self.docnums[start:end], self.weights[start:end], self.positions[first:last]

    def term_ids(self, fieldname: str, words: Sequence[bytes]) -> list[int]:
        lo, hi = self.fields.get(fieldname, (0, 0))
        return self.terms.find(words, lo, hi)


def _open(segreader) -> SegmentColumns | None:
    """The segment's file, or None when the segment has none or an older layout (written by
    Whoosh's own writer or an older searchnews): then Whoosh answers."""
    storage, name = segreader._storage, segreader._segment.make_filename(EXT)
    if not storage.file_exists(name):
        return None
    f = storage.open_file(name)
    buf = getattr(f, "_buf", None)              # inside a compound file: a view of its map
    if buf is None:
        f.seek(0)
        fileno = f.file.fileno() if hasattr(f, "file") else f.fileno()
        buf = mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)
    try:
        return SegmentColumns(buf)
    except ValueError:
        return None


class Columns:
    """The searcher's segments as arrays: per-term postings in global docnums (deleted
    documents left out) and each field's document lengths as Whoosh's scorer decodes them."""

    def __init__(self, searcher: Searcher, segments: list[tuple[SegmentColumns, int, object]]
                 ) -> None:
        self.searcher = searcher
        self.segments = segments            # (columns, docnum offset, segment reader)
        self._lengths: dict[str, np.ndarray] = {}
        self._evaluated: dict[int, tuple[Q.Query, tuple[np.ndarray, np.ndarray]]] = {}
        self._terms: dict[tuple[str, str, float], tuple[np.ndarray, np.ndarray]] = {}
        self._cache: dict[tuple[str, bytes, bool], tuple] = {}
        self._live: np.ndarray | None = None
        self.has_deletions = any(r.has_deletions() for _, _, r in segments)

    @classmethod
    def of(cls, searcher: Searcher) -> "Columns | None":
        """The searcher's columns, opened once and cached on it (None: some segment has no
        postings file, so Whoosh answers)."""
        cached = getattr(searcher, "_searchnews_columns", False)
        if cached is False:
            reader = searcher.reader()
            leaves = reader.leaf_readers()
            segments = [(_open(r), offset, r) for r, offset in leaves]
            cached = None if any(c is None for c, _, _ in segments) else cls(searcher, segments)
            searcher._searchnews_columns = cached
        return cached

    def lengths(self, fieldname: str) -> np.ndarray:
        """Each document's length in a field, through the byte encoding Whoosh stores."""
        out = self._lengths.get(fieldname)
        if out is None:
            out = self._lengths[fieldname] = np.concatenate(
                [field_lengths(r._perdoc, fieldname) for _, _, r in self.segments])
        return out

    def live(self) -> np.ndarray:
        """True for each document not deleted."""
        if self._live is None:
            parts = []
            for _, _, r in self.segments:
                alive = np.ones(r.doc_count_all(), bool)
                deleted = list(r._perdoc.deleted_docs()) if r.has_deletions() else []
                alive[deleted] = False
                parts.append(alive)
            self._live = np.concatenate(parts)
        return self._live

    def mask(self, docnums: np.ndarray) -> np.ndarray:
        """Docnums (a date or source filter) as a boolean mask."""
        out = np.zeros(self.searcher.doc_count_all(), bool)
        out[docnums] = True
        return out

    def postings(self, fieldname: str, tbytes: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(global docnums, term weights) of a term, in docnum order."""
        docs, tf, _, _, _ = self._postings(fieldname, tbytes, False)
        return docs, tf

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        """In how many documents the term was written, deleted ones included, as Whoosh
        counts it for scoring."""
        return self._postings(fieldname, tbytes, False)[4]

    def idf(self, fieldname: str, text: str) -> float:
        """The searcher's IDF of a term, its document frequency read from the arrays."""
        weighting = self.searcher.weighting
        if type(weighting).idf is not ranking.BM25F.idf:
            return self.searcher.idf(fieldname, text)
        tbytes = self.searcher.schema[fieldname].to_bytes(text)
        return ranking.rsj_idf(self.doc_frequency(fieldname, tbytes),
                               self.searcher.doc_count_all())

    def _postings(self, fieldname: str, tbytes: bytes, positions: bool
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """(global docnums, weights, where each posting's positions start, all positions,
        document frequency); the positions are empty unless ``positions``. Kept for the
        next queries: a search looks its words up again in each tier and for its hits."""
        key = (fieldname, tbytes, positions)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._read(fieldname, tbytes, positions)
            if len(self._cache) > 256:
                self._cache.pop(next(iter(self._cache)))
        return found

    def _read(self, fieldname: str, tbytes: bytes, positions: bool
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        ids, weights, starts, poses = [], [], [], []
        before = 0
        for columns, offset, _ in self.segments:
            found = columns.postings(fieldname, tbytes)
            if found is None:
                continue
            ids.append(found[0].astype(np.int64) + offset)
            weights.append(found[1].astype(np.float64))
            if positions:
                counts = found[1].astype(np.int64)
                starts.append(np.cumsum(counts) - counts + before)
                poses.append(found[2].astype(np.int64))
                before += len(found[2])
        if not ids:
            empty = np.empty(0, np.int64)
            return empty, np.empty(0, np.float64), empty, empty, 0
        docs, tf = np.concatenate(ids), np.concatenate(weights)
        df = len(docs)
        starts = np.concatenate(starts) if positions else np.empty(0, np.int64)
        poses = np.concatenate(poses) if positions else np.empty(0, np.int64)
        if self.has_deletions:
            keep = self.live()[docs]
            docs, tf = docs[keep], tf[keep]
            starts = starts[keep] if positions else starts
        return docs, tf, starts, poses, df

    # -- scoring -----------------------------------------------------------------------------

    def evaluate(self, q: Q.Query) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, scores) of every match, as Whoosh's matchers score them: a term by
        BM25F (times its boost), OR the sum over the parts a document has, AND the sum
        where it has them all. Raises :class:`Unsupported` for anything else. The last few
        queries' answers are kept: a search asks again for its hits' other paragraphs."""
        kept = self._evaluated.get(id(q))          # by identity: hashing a query costs more
        if kept is not None and kept[0] is q:
            return kept[1]
        found = self._evaluate(q)
        if len(self._evaluated) >= 8:
            self._evaluated.pop(next(iter(self._evaluated)))
        self._evaluated[id(q)] = (q, found)
        return found

    def _evaluate(self, q: Q.Query) -> tuple[np.ndarray, np.ndarray]:
        kind = type(q)
        if kind is Q.Term:
            return self._term(q)
        if kind is Q.Phrase:
            return self._phrase(q)
        if q is Q.NullQuery:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        if getattr(q, "scale", None) is not None:
            raise Unsupported(f"a scaled {kind.__name__}")
        docs, scores = self._compound(q)
        return docs, scores * q.boost if q.boost != 1.0 else scores

    def _compound(self, q: Q.Query) -> tuple[np.ndarray, np.ndarray]:
        kind = type(q)
        if kind is Q.AndNot:          # the positive part, without the negative one's matches
            return _among(self._evaluate(q.a), self._evaluate(q.b)[0], False)
        if kind is Q.AndMaybe:        # the required part, plus the optional one's score
            docs, scores = self._evaluate(q.a)
            return docs, scores + _scores_at(self._evaluate(q.b), docs)
        if kind is Q.Require:         # in both, scored by the first
            return _among(self._evaluate(q.a), self._evaluate(q.b)[0], True)
        if kind in (Q.Or, Q.And) and q.subqueries:
            negative = [sub.query for sub in q.subqueries if type(sub) is Q.Not]
            if negative and kind is Q.Or:
                raise Unsupported("OR NOT")
            parts = [self._evaluate(sub) for sub in q.subqueries if type(sub) is not Q.Not]
            if not parts:
                raise Unsupported("only negations")
            found = _union(parts, self.searcher.doc_count_all()) if kind is Q.Or \
                else _intersection(parts)
            for sub in negative:      # a NOT among the words: Whoosh's counts 1 where it holds
                docs, scores = _among(found, self._evaluate(sub)[0], False)
                found = docs, scores + 1.0
            return found
        raise Unsupported(kind.__name__)

    def _scorer(self, fieldname: str) -> tuple[float, float, float]:
        """(B, K1, average length) of BM25F for a field, as Whoosh's BM25F scorer has them."""
        weighting = self.searcher.weighting
        if fieldname not in FIELDS or not isinstance(weighting, BM25F) or weighting._field_B:
            raise Unsupported(f"{fieldname} scored by {type(weighting).__name__}")
        return weighting.B, weighting.K1, self.searcher.avg_field_length(fieldname) or 1

    def _bm25(self, fieldname: str, tbytes: bytes, docs: np.ndarray, tf: np.ndarray
              ) -> np.ndarray:
        B, K1, avgfl = self._scorer(fieldname)
        idf = self.idf(fieldname, tbytes.decode("utf-8"))
        fl = self.lengths(fieldname)[docs]
        return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))

    def _term(self, q: Q.Term) -> tuple[np.ndarray, np.ndarray]:
        """A term's documents and BM25F scores, kept for the query's other tiers."""
        if q.minquality:
            raise Unsupported("a term with a minimum quality")
        key = (q.fieldname, q.text, q.boost)
        found = self._terms.get(key)
        if found is None:
            tbytes = self.searcher.schema[q.fieldname].to_bytes(q.text)
            if q.fieldname in IDS:    # Whoosh scores a whole-value field by the weight
                docs, weights = self.postings(q.fieldname, tbytes)
                found = docs, weights * q.boost
            else:
                self._scorer(q.fieldname)
                docs, tf = self.postings(q.fieldname, tbytes)
                scores = self._bm25(q.fieldname, tbytes, docs, tf)
                found = docs, scores * q.boost if q.boost != 1.0 else scores
            if len(self._terms) > 256:
                self._terms.pop(next(iter(self._terms)))
            self._terms[key] = found
        return found

    def _phrase(self, q: Q.Phrase) -> tuple[np.ndarray, np.ndarray]:
        """Whoosh's phrase (SpanNear2, ordered): the paragraphs where each word stands 1 to
        ``slop`` positions after the previous one, scored as the AND of its words. Positions
        become keys (paragraph, position); each word keeps the keys that follow one kept for
        the word before, within the slop — what is left after the last word is a match."""
        if not q.words:
            raise Unsupported("an empty phrase")
        self._scorer(q.fieldname)
        field = self.searcher.schema[q.fieldname]
        words = [field.to_bytes(w) for w in q.words]
        found = [self._postings(q.fieldname, w, True)[:4] for w in words]
        docs = found[0][0]
        for other in found[1:]:
            docs = np.intersect1d(docs, other[0], assume_unique=True)
        keys = None
        for word_docs, tf, starts, poses in found:
            at = np.searchsorted(word_docs, docs)
            counts = tf[at].astype(np.int64)
            first = np.repeat(starts[at] - (np.cumsum(counts) - counts), counts)
            mine = np.repeat(np.arange(len(docs)), counts) * _KEY + \
                poses[first + np.arange(counts.sum())]
            if keys is not None:
                mine = np.sort(mine)
                after = np.searchsorted(keys, mine - q.slop, "left") < \
                    np.searchsorted(keys, mine - 1, "right")
                mine = mine[after]
            keys = np.unique(mine)
        hit = np.unique(keys // _KEY) if keys is not None else np.empty(0, np.int64)
        scores = np.zeros(len(hit))
        for w, (word_docs, tf, _, _) in zip(words, found):
            at = np.searchsorted(word_docs, docs[hit])
            scores += self._bm25(q.fieldname, w, docs[hit], tf[at])
        return docs[hit], scores * q.boost if q.boost != 1.0 else scores

    def top(self, q: Q.Query, limit: int, allowed: np.ndarray | None = None,
            by: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``limit`` best (docnums, scores), best first and, at equal scores, lower docnum
        first as Whoosh's collector orders them; ``allowed``: a boolean mask of documents.
        With ``by`` (a value per document, such as its date): the largest (value, docnum)
        first, as Whoosh sorts with ``reverse``, and scores 0."""
        docs, scores = self.evaluate(q)
        if allowed is not None and len(docs):
            keep = allowed[docs]
            docs, scores = docs[keep], scores[keep]
        if by is not None:
            docs = docs[np.lexsort((docs, by[docs]))[::-1][:limit]]
            return docs, np.zeros(len(docs))
        if len(docs) > limit:
            best = np.argpartition(-scores, limit - 1)[:limit]
            # keep every document tied with the last place, so ties break by docnum
            threshold = scores[best].min()
            best = np.flatnonzero(scores >= threshold)
            docs, scores = docs[best], scores[best]
        order = np.lexsort((docs, -scores))[:limit]
        return docs[order], scores[order]


def field_lengths(perdoc, fieldname: str) -> np.ndarray:
    """Each document's length in a field, from a segment's per-document reader (0 where the
    field has no lengths), through the byte encoding Whoosh stores them in."""
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return np.zeros(perdoc.doc_count_all())
    return _LENGTH[_numbers(column, perdoc.doc_count_all(), 0)]


def column_values(segreader, fieldname: str, default: int) -> np.ndarray:
    """A segment's numeric column (dates) as an array, read in one piece: Whoosh's ``load``
    unpacks it one document at a time (about 1 s for the dates of 1M paragraphs)."""
    column = segreader.column_reader(fieldname, translate=False)
    if not isinstance(column, NumericColumn.Reader):     # no document of it has the field
        return np.full(segreader.doc_count_all(), default, np.uint64)
    return _numbers(column, segreader.doc_count_all(), default)


def _numbers(column, doccount: int, default: int) -> np.ndarray:
    """The values of a Whoosh ``NumericColumn`` reader (big-endian fixed-size numbers, the
    documents after the last one written holding ``default``)."""
    dtype = np.dtype(">" + column._typecode)
    out = np.full(doccount, default, dtype.newbyteorder("="))
    raw = column._dbfile.get(column._basepos, column._count * dtype.itemsize)
    out[:column._count] = np.frombuffer(raw, dtype)
    return out


def _union(parts: list[tuple[np.ndarray, np.ndarray]], size: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Docnums in any part, scores summed. Many postings (long questions of common words)
    are added into a score per document — sorting them all took ~60 ms at 1M paragraphs;
    few are merged by sorting."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    if len(parts) == 1:
        return parts[0]
    if sum(len(d) for d, _ in parts) * 32 > size:
        total, found = np.zeros(size), np.zeros(size, bool)
        for docs, scores in parts:           # a part's docnums are distinct
            total[docs] += scores
            found[docs] = True
        docs = np.flatnonzero(found)
        return docs, total[docs]
    docs, inverse = np.unique(np.concatenate([d for d, _ in parts]), return_inverse=True)
    return docs, np.bincount(inverse, weights=np.concatenate([s for _, s in parts]),
                             minlength=len(docs))


def _intersection(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Docnums in every part, scores summed: the rarest part's docnums looked up in the
    others (binary search, a few per document) rather than every part sorted together."""
    parts = sorted(parts, key=lambda p: len(p[0]))     # the rarest word narrows fastest
    docs, scores = parts[0]
    for other_docs, other_scores in parts[1:]:
        if not len(docs) or not len(other_docs):
            return docs[:0], scores[:0]
        at = np.minimum(np.searchsorted(other_docs, docs), len(other_docs) - 1)
        both = other_docs[at] == docs
        docs, scores = docs[both], scores[both] + other_scores[at[both]]
    return docs, scores


def _among(found: tuple[np.ndarray, np.ndarray], docs: np.ndarray, inside: bool
           ) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``found`` whose documents are (``inside``) or are not among ``docs``."""
    keep = np.isin(found[0], docs, assume_unique=True) == inside
    return found[0][keep], found[1][keep]


def _scores_at(found: tuple[np.ndarray, np.ndarray], docs: np.ndarray) -> np.ndarray:
    """The scores ``found`` gives the documents ``docs`` (0 where it has none)."""
    if not len(found[0]):
        return np.zeros(len(docs))
    at = np.minimum(np.searchsorted(found[0], docs), len(found[0]) - 1)
    return np.where(found[0][at] == docs, found[1][at], 0.0)
