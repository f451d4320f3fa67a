"""Files → changes to an index, whatever the engine: the incremental, mirroring logic.

An engine keeps a *manifest* (for each file: its SHA-1 and, per article id, a hash of the
article's content) and offers a :class:`Writer`. :func:`ingest` compares the files with the
manifest and tells the writer what to add, replace and delete, updating the manifest as it
goes so that it always describes what the writer has committed.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import hashlib
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterable, Iterator, Protocol

from .articles import Article, derived_id, find_files, iter_articles
from .errors import ArticleError, IndexLockedError, SearchnewsError

DEFAULT_WAIT = 30.0          # seconds a second writer waits for the first
# Paragraphs between commits, so that progress survives a crash (tests set it lower).
COMMIT_EVERY = int(os.environ.get("SEARCHNEWS_COMMIT_EVERY") or 100_000)
KEEP_IN_MEMORY = 32 << 20    # files up to this size are parsed once; larger ones stream twice


@dataclass
class IndexReport:
    """What one indexing run did, counted in articles (failed: files)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    paragraphs: int = 0
    elapsed: float = 0.0
    index: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["failed"] = [{"path": p, "error": e} for p, e in self.failed]
        d["elapsed"] = round(self.elapsed, 3)
        return d


ProgressFn = Callable[[int, int], None]   # (bytes done, paragraphs indexed) since the last call


class Writer(Protocol):
    """What an engine offers :func:`ingest`: changes, committed in batches."""

    def replace(self, article: Article) -> None:
        """Index an article's paragraphs, dropping any it had before."""

    def delete(self, article_id: str) -> None:
        """Drop an article's paragraphs."""

    def maybe_commit(self) -> None:
        """Commit (and save the manifest) if enough has changed since the last commit."""


def collect_files(paths: Iterable[str | os.PathLike], report: IndexReport
                  ) -> tuple[list[tuple[Path, Path | None]], list[Path]]:
    """The article files under ``paths`` with the folder each was found in, and the folders
    (resolved) whose vanished files are to be removed. A missing path is a failure."""
    files: list[tuple[Path, Path | None]] = []
    roots: list[Path] = []
    for p in paths:
        try:
            found = list(find_files(p))
        except ArticleError as exc:
            report.failed.append((exc.path, exc.reason))
            continue
        root = Path(p) if Path(p).is_dir() else None
        if root is not None:
            roots.append(root.resolve())
        files.extend((f, root) for f in found)
    return files, roots


def index_paths(paths: Iterable[str | os.PathLike], where: str,
                lock: Callable[[], ContextManager],
                update: Callable[[list[tuple[Path, Path | None]], list[Path], IndexReport], None],
                on_total: Callable[[int], None] | None = None) -> IndexReport:
    """One indexing run, whatever the engine: the article files under ``paths`` (their
    total size told to ``on_total`` first, for a progress bar), brought into the index by
    ``update`` (files, roots, report) under the engine's write ``lock``, timed."""
    started = time.monotonic()
    report = IndexReport(index=where)
    files, roots = collect_files(paths, report)
    if on_total:
        on_total(sum(size_of(f) for f, _ in files))
    with lock():
        update(files, roots, report)
    report.elapsed = time.monotonic() - started
    return report


def ingest(files: list[tuple[Path, Path | None]], roots: list[Path], known: dict,
           writer: Writer, report: IndexReport, progress: ProgressFn | None) -> None:
    """Bring the index in line with ``files``: ``known`` is the manifest's ``files`` map,
    updated in place. Articles of files gone from ``roots`` are removed."""
    owner = {aid: path for path, entry in known.items() for aid in entry["articles"]}
    seen = {str(f.resolve()) for f, _ in files}
    gone = [p for p in known if p not in seen and any(_under(p, r) for r in roots)]
    for path in gone:
        for aid in known[path]["articles"]:
            writer.delete(aid)
            owner.pop(aid, None)
            report.removed += 1
        del known[path]
    for f, root in files:
        _index_file(f, root, known, owner, writer, report, progress)


def _index_file(f: Path, root: Path | None, known: dict, owner: dict, writer: Writer,
                report: IndexReport, progress: ProgressFn | None) -> None:
    """Index one file's changes. A first streaming pass reads and checks the whole file
    (so a bad line leaves the index untouched) and hashes each article; a second pass
    indexes the articles whose hash changed."""
    key = str(f.resolve())
    size = size_of(f)
    entry = known.get(key)
    try:
        sha = file_sha(f)
        if entry is not None and entry.get("sha") == sha:
            report.unchanged += len(entry["articles"])
            if progress:
                progress(size, 0)
            return
        warnings: list[str] = []
        new: dict[str, str] = {}
        kept: list[Article] | None = [] if size <= KEEP_IN_MEMORY else None
        renamed: dict[str, str] = {}
        for a in iter_articles(f, root, warnings):
            if owner.get(a.article_id, key) != key and _derived(a.article_id, f, root):
                # an id made from the file's name ("nota") that a file of another folder
                # holds already: this one is named with its folder too ("otra/nota")
                renamed[a.article_id] = f"{(root or f.parent).resolve().name}/{a.article_id}"
                a = dataclasses.replace(a, article_id=renamed[a.article_id])
            if owner.get(a.article_id, key) != key:
                raise ArticleError(str(f), f"article id '{a.article_id}' is already "
                                           f"indexed from {owner[a.article_id]}")
            new.pop(a.article_id, None)
            new[a.article_id] = a.content_hash
            if kept is not None:
                kept.append(a)
    except ArticleError as exc:
        report.failed.append((str(f) if exc.line is None else f"{f}:{exc.line}", exc.reason))
        if progress:
            progress(size, 0)
        return
    report.warnings.extend(warnings)
    old = entry["articles"] if entry else {}
    changed = {aid for aid, h in new.items() if old.get(aid) != h}
    report.unchanged += len(new) - len(changed)
    # The manifest mirrors what is committed: the file's old articles, each replaced by
    # its new hash as it is indexed, and no sha until the file is done.
    mirrored = dict(old)
    known[key] = {"sha": None, "articles": mirrored}
    step, consumed = size // max(1, len(new)), 0
    try:
        source = kept if kept is not None else (
            dataclasses.replace(a, article_id=renamed[a.article_id])
            if a.article_id in renamed else a for a in iter_articles(f, root, []))
        for a in source if changed else ():
            if a.article_id not in changed or a.content_hash != new[a.article_id]:
                continue                           # unchanged, or an earlier copy
            changed.discard(a.article_id)
            if a.article_id in old:
                report.updated += 1
            else:
                report.added += 1
            writer.replace(a)
            mirrored[a.article_id] = new[a.article_id]
            report.paragraphs += len(a.paragraphs)
            owner[a.article_id] = key
            if progress:
                progress(step, len(a.paragraphs))
                consumed += step
            writer.maybe_commit()
    except ArticleError as exc:      # the file changed between the two passes
        report.failed.append((str(f) if exc.line is None else f"{f}:{exc.line}", exc.reason))
        return
    for aid in old.keys() - new.keys():
        writer.delete(aid)
        owner.pop(aid, None)
        mirrored.pop(aid, None)
        report.removed += 1
    known[key]["sha"] = sha
    if progress:
        progress(size - consumed, 0)
    writer.maybe_commit()


def _derived(article_id: str, f: Path, root: Path | None) -> bool:
    """Whether an article's id was made from its file's name (the file gave none)."""
    base = derived_id(f, root)
    return article_id == base or article_id.startswith(base + "#")


@contextmanager
def write_lock(path: Path, wait: float, what: str) -> Iterator[None]:
    """One writer at a time: an flock on ``path``, waited for up to ``wait`` seconds, then a
    clear error naming ``what`` is being written. The kernel drops it if the process dies."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SearchnewsError(f"{what}: cannot write the index: {exc.strerror or exc}") from None
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexLockedError(
                        f"{what} is being written by another 'searchnews index' "
                        f"(waited {wait:g}s); try again later or pass a longer --wait"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def file_sha(p: Path) -> str:
    h = hashlib.sha1()
    try:
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        raise ArticleError(str(p), f"cannot read: {exc.strerror or exc}") from None
    return h.hexdigest()


def size_of(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def _under(path: str, root: Path) -> bool:
    return path.startswith(str(root) + os.sep)
