"""A Whoosh segment writer for whole batches of paragraphs, several times faster than stock.

Profiling Whoosh's ``SegmentWriter`` on news paragraphs (bench/, 10k paragraphs) showed where
indexing time goes besides analysis:

* every posting is a tuple pushed through an external-sort pool (size accounting, sorting
  millions of tuples, spilling runs to temp files), though a writer's documents arrive in
  docnum order and only the *terms* need sorting;
* when the segment is flushed, each posting looks up its document's field length through the
  lengths column (with a ``stat`` call per posting for fields that keep no lengths);
* analysis goes through ``Token`` objects and a per-field ``word_values`` pass.

:class:`BulkWriter` keeps what Whoosh writes — same codec, same files, same postings, read by
the stock reader — and changes how it gets there: postings are grouped per term in memory as
they arrive (already in docnum order), terms are sorted once at flush, field lengths are read
once per field, and fields analysed by :class:`searchnews.analysis.SpanishTokenizer` take one
``findall`` pass to their positions. Memory grows with the paragraphs between commits (the
caller commits every ``COMMIT_EVERY``).

Each segment it writes (merged ones included) also gets the title and text postings as flat
arrays, positions included (:mod:`.columnar`), from which queries are scored.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from array import array
from collections import Counter

from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import _lenfield
from whoosh.fields import FieldType
from whoosh.formats import Positions
from whoosh.filedb.filestore import Storage
from whoosh.index import FileIndex
from whoosh.writing import SegmentWriter

from ... import analysis

from . import columnar
from .forward import Forward, Tokens
from ...errors import SearchnewsError

_POSITIONS = Positions()        # decodes the positions of postings merged in from a segment


def _analyse(value: str, stem: bool, forward: Forward
             ) -> tuple[list[str], dict[str, list[int]], Tokens]:
    """The words of a text, term -> positions of its words (stopwords not counted) as the
    Positions format records them, and its words in the forward index (spelling ids and
    where each starts)."""
    out: dict[str, list[int]] = {}
    ids, starts, words = array("I"), array("I"), []
    known, learn = forward.words, forward.word
    which = 2 if stem else 1
    for m in analysis.WORD_RE.finditer(value):
        word = m.group()
        words.append(word)
        entry = known.get(word, False)
        if entry is False:
            entry = learn(word)
        if entry is not None:
            t = entry[which]
            poses = out.get(t)
            if poses is None:
                out[t] = [len(ids)]
            else:
                poses.append(len(ids))
            ids.append(entry[0])
            starts.append(m.start())
    return words, out, (ids, starts)


def _postings(reader, skip: set[str]):
    """Whoosh's ``iter_postings`` of a reader, but for the fields in ``skip``."""
    for fieldname, btext in reader.all_terms():
        if fieldname in skip:
            continue
        m = reader.postings(fieldname, btext)
        while m.is_active():
            yield fieldname, btext, m.id(), m.weight(), m.value()
            m.next()


def _term_postings(fieldname: str, field: FieldType, positions: dict[str, list[int]]
                   ) -> list[tuple[tuple[str, bytes], float, bytes | None, list[int]]]:
    """((field, term bytes), weight, encoded value, positions) of each term of a field's
    value: the weight is the term's frequency; the value, as the field's format encodes
    positions (none at all when it keeps no positions)."""
    encode = field.format.encode if field.format.supports("positions") else None
    return [((fieldname, text.encode("utf-8")), float(len(poses)),
             encode(poses) if encode else None, poses) for text, poses in positions.items()]


def _fill_blocks(pw, docnums: array, weights: list[float], values: list[bytes | None],
                 lengths: list[int] | None) -> None:
    """A term's postings into Whoosh's W3 postings writer a block at a time — the state its
    ``add_posting`` builds one posting at a time (ids, weights, non-empty values, max weight,
    min/max non-zero length), each full block written as it would write it; the last one is
    left for ``finish_postings``."""
    limit = pw._blocklimit
    for start in range(0, len(docnums), limit):
        if start:
            pw._write_block()
        end = start + limit
        pw._ids = array("I", docnums[start:end])
        pw._weights = array("f", weights[start:end])
        pw._maxweight = max(0, *weights[start:end])
        pw._values = [v for v in values[start:end] if v]
        if lengths:
            nonzero = [n for n in lengths[start:end] if n]
            if nonzero:
                pw._minlength, pw._maxlength = min(nonzero), max(nonzero)


class TermPool:
    """Postings grouped by (field, term bytes); each group's docnums only ever increase, as a
    writer numbers its documents (and merged segments after them) in order. The positions of
    the title and text fields are also kept raw, one flat array per term, for
    :mod:`.columnar`."""

    def __init__(self) -> None:
        self.terms: dict[tuple[str, bytes], tuple[array, list, list, array]] = {}

    def extend(self, docnum: int,
               postings: list[tuple[tuple[str, bytes], float, bytes | None, list[int] | None]]
               ) -> None:
        """A document's postings: ((field, term bytes), weight, encoded value, positions)
        each; positions None means "decode them from the value if columnar keeps them"."""
        terms = self.terms
        for key, weight, vbytes, poses in postings:
            group = terms.get(key)
            if group is None:
                group = terms[key] = (array("i"), [], [], array("I"))
            group[0].append(docnum)
            group[1].append(weight)
            group[2].append(vbytes)
            if poses is None and vbytes and key[0] in columnar.FIELDS:
                poses = _POSITIONS.decode_positions(vbytes)
            if poses:
                group[3].extend(poses)

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """One posting, as Whoosh's pool takes it (used when merging segments in)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        self.extend(docnum, [((fieldname, tbytes), weight, vbytes, None)])

    def cleanup(self) -> None:
        self.terms.clear()


class BulkWriter(SegmentWriter):
    """``SegmentWriter`` with the term pool, one-pass analysis and cached field lengths."""

    def __init__(self, ix: FileIndex, detached: bool = False,
                 words: Counter[str] | None = None) -> None:
        """``detached``: write a segment for another writer (holding the lock) to commit;
        Whoosh's temp folder, unused here, is then the committing writer's to remove.
        ``words``: every analysed word as written is counted there (for vocabulary.py)."""
        super().__init__(ix, _lk=not detached)
        self.pool.cleanup()                 # the stock pool made no runs yet: drop it
        self.pool = TermPool()
        if detached:
            self._tempstorage = Storage()   # a no-op storage: nothing to destroy
        self._fields = {}                   # fieldname -> (field, spanish analyzer or None)
        self._last = {}                     # fieldname -> the previous value and its postings
        self.forward = Forward()
        self.words = words

    def _field(self, fieldname: str) -> tuple[FieldType, analysis.SpanishTokenizer | None]:
        known = self._fields.get(fieldname)
        if known is None:
            field = self.schema[fieldname]
            tokenizer = getattr(field, "analyzer", None)
            fast = (field.indexed and isinstance(tokenizer, analysis.SpanishTokenizer)
                    and type(field.format).__name__ in ("Positions", "Existence")
                    and not field.vector and not field.separate_spelling())
            known = self._fields[fieldname] = (field, tokenizer if fast else None)
        return known

    def add_document(self, **fields) -> None:
        """As Whoosh's, for documents without boosts or ``_stored_`` overrides."""
        self._check_state()
        perdoc = self.perdocwriter
        pool = self.pool
        docnum = self.docnum
        perdoc.start_doc(docnum)
        spellings = {}
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field, tokenizer = self._field(fieldname)
            length = 0
            if field.indexed:
                postings, length, spellings[fieldname] = self._postings(fieldname, field,
                                                                        tokenizer, value)
                pool.extend(docnum, postings)
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(fieldname, field.column_type,
                                        field.to_column_value(value))
        perdoc.finish_doc()
        self.forward.add(docnum, spellings.get("text") or (array("I"), array("I")),
                         spellings.get("title"), fields.get("article_id"))
        self._added = True
        self.docnum += 1

    def write_per_doc(self, fieldnames, reader):
        """Whoosh's copy of a merged segment's documents, plus their forward index, from
        their stored title and text analysed again — and, where Whoosh's postings keep no
        positions, their title and text postings too (:meth:`add_postings_to_pool`)."""
        first = self.docnum
        docmap = super().write_per_doc(fieldnames, reader)
        again = self._reanalysed()
        for docnum, (_, stored) in enumerate(reader.iter_docs(), first):
            tokens = {}
            for fieldname in columnar.FIELDS:
                value = stored.get(fieldname)
                if not value:
                    continue
                _, positions, tokens[fieldname] = _analyse(value, True, self.forward)
                if fieldname in again:
                    self.pool.extend(docnum, _term_postings(fieldname, self.schema[fieldname],
                                                            positions))
            self.forward.add(docnum, tokens.get("text") or (array("I"), array("I")),
                             tokens.get("title"), stored.get("article_id"))
        return docmap

    def add_postings_to_pool(self, reader, startdoc, docmap):
        """Whoosh's, less the fields whose postings :meth:`write_per_doc` made again."""
        again = self._reanalysed()
        for item in self._process_posts(_postings(reader, again), startdoc, docmap):
            self.pool.add(item)

    def _reanalysed(self) -> set[str]:
        """The scored fields whose Whoosh postings have no positions for the arrays."""
        return {f for f in columnar.FIELDS if f in self.schema
                and not self.schema[f].format.supports("positions")}

    def _postings(self, fieldname: str, field: FieldType,
                  tokenizer: analysis.SpanishTokenizer | None, value
                  ) -> tuple[list[tuple[tuple[str, bytes], float, bytes, list | None]], int,
                             array | None]:
        """((field, term bytes), weight, encoded positions, positions) of each term of a
        field's value, the value's length, and its words' spelling ids (Spanish fields). A
        value equal to the previous document's — an article's title, date and source, on
        each of its paragraphs — is analysed once (and its spelling ids are the same object).
        """
        last = self._last.get(fieldname)
        if last is not None and last[0] == value:
            if last[3] and self.words is not None:
                self.words.update(last[3])      # counted as if analysed again
            return last[1], last[2], last[4]
        words = tokens = None
        if tokenizer is not None:
            words, positions, tokens = _analyse(value, tokenizer.stem, self.forward)
            if self.words is not None:
                self.words.update(words)
            postings = _term_postings(fieldname, field, positions)
            length = len(tokens[0])
        else:
            postings, length = [], 0
            for tbytes, freq, weight, vbytes in field.index(value):
                postings.append(((fieldname, tbytes), weight, vbytes, None))
                length += freq if field.scorable else 0
        self._last[fieldname] = (value, postings, length, words, tokens)
        return postings, length, tokens

    def _flush_segment(self) -> None:
        """Write the pooled postings, terms in order, each with its document's field length."""
        self.perdocwriter.close()
        lengths = self._field_lengths()
        fw = self.fieldwriter
        last_field = None
        for fieldname, tbytes in sorted(self.pool.terms):
            docnums, weights, values, _ = self.pool.terms[fieldname, tbytes]
            if fieldname != last_field:
                if last_field is not None:
                    fw.finish_field()
                fw.start_field(fieldname, self.schema[fieldname])
                last_field = fieldname
                field_lengths = lengths.get(fieldname)
            fw.start_term(tbytes)
            _fill_blocks(fw._postwriter, docnums, weights, values,
                         [field_lengths[d] for d in docnums] if field_lengths else None)
            fw.finish_term()
        if last_field is not None:
            fw.finish_field()
        fw.close()
        columnar.write(self.newsegment.create_file(self.storage, columnar.EXT),
                       ((f, t, ids, ws, poses)
                        for (f, t), (ids, ws, _, poses) in self.pool.terms.items()),
                       self.forward.arrays())

    def _field_lengths(self) -> dict[str, list[int]]:
        """fieldname -> length of each document, for the fields that keep lengths, read once
        from the column the per-document writer just wrote."""
        pdr = self.per_document_reader()
        try:
            out = {}
            for fieldname in {f for f, _ in self.pool.terms}:
                if pdr.has_column(_lenfield(fieldname)):
                    out[fieldname] = columnar.field_lengths(pdr, fieldname).astype(int).tolist()
            return out
        finally:
            pdr.close()

    def detach_segment(self) -> Segment | None:
        """Finish this writer's segment without committing it (None if it has no documents)."""
        segment = self._finalize_segment() if self._added else None
        if segment is None:
            self._close_segment()
        self._finish()
        return segment

    def commit(self, segments: list[Segment] = ()) -> None:
        """Whoosh's commit (merging small segments as it does) that also publishes
        ``segments`` written by detached writers, in the same atomic table of contents."""
        self._check_state()
        final = self._merge_segments(None, None, None)
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(final + list(segments))
        self._finish()


def paragraph_docs(common: dict, paragraphs: tuple[str, ...]) -> list[dict]:
    """An article's documents, one per paragraph: its common fields, the paragraph's."""
    return [dict(common, paragraph=i, text=text) for i, text in enumerate(paragraphs)]


PARALLEL_AFTER = 5_000     # paragraphs in one run before the worker processes start
BATCH = 500                # paragraphs per message to a worker
POLL = 1.0                 # seconds between checks that the other side is alive


class Workers:
    """Worker processes that each index their share of the documents into a segment of their
    own, so that a run uses every core: Whoosh's writer is single-threaded Python.

    ``add`` deals batches round-robin; ``segments`` asks each worker for what it wrote
    since the last call (finished segments, and the words it analysed for the vocabulary),
    for the parent's :meth:`BulkWriter.commit` to publish. Workers exit with the parent.
    """

    def __init__(self, ix: FileIndex, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self.results = context.Queue()
        self.jobs = [context.Queue() for _ in range(count)]
        self.procs = [context.Process(target=_work, args=(ix, jobs, self.results, os.getpid()),
                                      daemon=True) for jobs in self.jobs]
        for p in self.procs:
            p.start()
        self.batch: list[tuple] = []
        self.size = 0                        # paragraphs in the batch
        self.turn = 0

    def add(self, article: tuple[dict, tuple[str, ...]]) -> None:
        """One article (its common fields, its paragraphs): a batch ends between articles,
        and an article travels as one record, not a document per paragraph."""
        self.batch.append(article)
        self.size += len(article[1])
        if self.size >= BATCH:
            self._send()

    def _send(self) -> None:
        if self.batch:
            self.size = 0
            self.jobs[self.turn].put(self.batch)
            self.turn = (self.turn + 1) % len(self.jobs)
            self.batch = []

    def segments(self) -> tuple[list[Segment], Counter[str]]:
        """Every worker's finished segment and analysed words since the last call."""
        self._send()
        for jobs in self.jobs:
            jobs.put("commit")
        segments, words = [], Counter()
        for _ in self.jobs:
            outcome = self._result()
            if isinstance(outcome, str):
                raise SearchnewsError(f"indexing worker failed: {outcome}")
            segment, counted = outcome
            if segment is not None:
                segments.append(segment)
            words.update(counted)
        return segments, words

    def _result(self):
        while True:
            try:
                return self.results.get(timeout=POLL)
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in self.procs):
                    raise SearchnewsError("an indexing worker process died") from None

    def stop(self, abandon: bool = False) -> None:
        """End the workers: once idle, or with ``abandon`` (after an error or Ctrl-C) at once,
        dropping the batches not yet indexed. What was not collected stays uncommitted."""
        for jobs, p in zip(self.jobs, self.procs):
            if abandon:
                p.kill()
            elif p.is_alive():
                jobs.put(None)
        for jobs, p in zip(self.jobs, self.procs):
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
            jobs.cancel_join_thread()   # a batch nobody will read must not block our exit
            jobs.close()
        self.procs, self.jobs = [], []


def _work(ix: FileIndex, jobs, results, parent: int) -> None:
    """A worker's loop: batches of documents into a detached segment; ``"commit"`` hands
    the segment over; None or a vanished parent ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the parent's to handle
    results.cancel_join_thread()   # an orphan's unread result must not keep it from exiting
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    writer = None
    words: Counter[str] = Counter()
    try:
        while os.getppid() == parent:       # an orphan stops: its work can't be committed
            try:
                job = jobs.get(timeout=POLL)
            except queue.Empty:
                continue
            if job is None:
                return
            if job == "commit":
                results.put((writer.detach_segment() if writer else None, dict(words)))
                writer = None
                words.clear()
                continue
            if writer is None:
                writer = BulkWriter(ix, detached=True, words=words)
            for article in job:
                for doc in paragraph_docs(*article):
                    writer.add_document(**doc)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put(f"{type(exc).__name__}: {exc}")


def _exit_with(parent: int) -> None:
    """End this worker as soon as its parent is gone, whatever it is doing: a parent
    killed while it wrote a batch leaves half a message in the pipe, which the worker would
    wait on for ever (the pipe's other end is open in the workers too)."""
    while os.getppid() == parent:
        time.sleep(POLL)
    os._exit(1)
