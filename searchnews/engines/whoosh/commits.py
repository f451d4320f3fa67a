"""The embedded engine's writing: one indexing run's changes, committed in batches.

Each commit publishes Whoosh's segments (this process's and the worker processes'), then
the words counted for the vocabulary, the checksums of every file and the manifest (which
files gave which articles), so that a crash at any point leaves the last commit whole.
How it writes is one :class:`WriteSettings` value, read from the environment by default.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index

from ... import atomic
from ...analysis import fold
from ...articles import Article
from ...ingest import COMMIT_EVERY
from ...vocabulary import Vocabulary
from . import integrity
from .writer import PARALLEL_AFTER, BulkWriter, Workers, paragraph_docs

MANIFEST = "manifest.json"


def _default_workers() -> int:
    """``$SEARCHNEWS_WORKERS``, else one per core on a machine of several (0: none)."""
    cores = os.cpu_count() or 1
    return int(os.environ.get("SEARCHNEWS_WORKERS") or (cores if cores > 1 else 0))


@dataclass(frozen=True)
class WriteSettings:
    """How the embedded engine writes: paragraphs between commits
    (``$SEARCHNEWS_COMMIT_EVERY``, so that progress survives a crash), indexing processes
    beside the main one (``$SEARCHNEWS_WORKERS``; 0: the main one only), paragraphs in one
    run before they start, and whether Whoosh's own postings keep positions too (the arrays
    always do; tests compare the two)."""

    commit_every: int = COMMIT_EVERY
    workers: int = field(default_factory=_default_workers)
    parallel_after: int = PARALLEL_AFTER
    positions: bool = False


class Committer:
    """The changes of one indexing run (:class:`searchnews.ingest.Writer`), committed every
    ``settings.commit_every`` paragraphs with the manifest, vocabulary and checksums."""

    def __init__(self, ix: whoosh_index.Index, gen: Path, manifest: dict, fresh: bool,
                 on_first_commit: Callable[[], None] | None, settings: WriteSettings):
        self.ix, self.gen, self.manifest, self.fresh = ix, gen, manifest, fresh
        self.settings = settings
        self.on_first_commit = on_first_commit
        self.pending = 0
        self.added = 0
        self.words: Counter[str] = Counter()     # the words indexed, as written
        self.w = BulkWriter(ix, words=self.words)
        self.workers: Workers | None = None
        self.waiting: list[tuple] = []            # articles not handed to a writer yet

    def replace(self, a: Article) -> None:
        """Add an article's paragraphs, first dropping any it had: the manifest may lag the
        index after a crash, so an article it calls new may be there already."""
        if not self.fresh:
            self.delete(a.article_id)
        date = dt.datetime.fromisoformat(a.date) if a.date else None
        source = fold(" ".join(a.source.split())) if a.source else None
        # what every paragraph of the article carries; a title derived from the text is
        # shown, not searched: it would count the article's first sentence twice
        common = dict(article_id=a.article_id, n_paragraphs=len(a.paragraphs),
                      date_iso=a.date, url=a.url)
        common["derived_title" if a.title_derived else "title"] = a.title
        if date is not None:
            common["date"] = date
        if source:
            common["source"], common["source_name"] = source, a.source
        self._add((common, a.paragraphs))
        self.pending += len(a.paragraphs)

    def _add(self, article: tuple[dict, tuple[str, ...]]) -> None:
        """An article (its common fields, its paragraphs), kept together in one segment
        (grouping reads them as one run). A run's first paragraphs wait in memory: if the
        run grows past ``parallel_after`` they all go to worker processes, one segment each,
        else to this process's writer at the commit — a small run makes one segment, a
        large one no small segment beside the workers' (each costs every query a little)."""
        n = len(article[1])
        workers = self.settings.workers
        if self.workers is None and workers and self.added + n > self.settings.parallel_after:
            self.workers = Workers(self.ix, workers)
            for waiting in self.waiting:
                self.workers.add(waiting)
            self.waiting = []
        if self.workers is not None:
            self.workers.add(article)
        elif workers:
            self.waiting.append(article)
        else:
            self._write(article)
        self.added += n

    def _write(self, article: tuple[dict, tuple[str, ...]]) -> None:
        for doc in paragraph_docs(*article):
            self.w.add_document(**doc)

    def delete(self, article_id: str) -> None:
        self.w.delete_by_term("article_id", article_id)
        self.pending += 1

    def maybe_commit(self) -> None:
        if self.pending >= self.settings.commit_every:
            self.commit()
            self.w = BulkWriter(self.ix, words=self.words)

    def commit(self) -> None:
        for article in self.waiting:
            self._write(article)
        self.waiting = []
        segments: list = []
        if self.workers is not None:
            segments, words = self.workers.segments()
            self.words.update(words)
        self.w.commit(segments)
        self.pending = 0
        if self.words:
            vocabulary = Vocabulary.load(self.gen)
            vocabulary.add(self.words)
            vocabulary.save(self.gen)
            self.words.clear()
        integrity.record(self.gen)
        atomic.write_text(self.gen / MANIFEST, json.dumps(self.manifest, ensure_ascii=False))
        if self.on_first_commit:
            self.on_first_commit()
            self.on_first_commit = None

    def cancel(self) -> None:
        if self.workers is not None:
            self.workers.stop(abandon=True)
        try:
            self.w.cancel()
        except Exception:  # noqa: BLE001 - already failing; keep the first error
            pass
        finally:
            self.close()

    def close(self) -> None:
        if self.workers is not None:
            self.workers.stop()


def load_manifest(gen: Path) -> dict:
    try:
        data = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("files"), dict):
            return data
    except (FileNotFoundError, ValueError):
        pass
    return {"version": 1, "files": {}}
