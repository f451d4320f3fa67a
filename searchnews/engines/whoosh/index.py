"""Article records → a Whoosh index on disk, incrementally and safely.

Layout of an index folder::

    index/CURRENT        the name of the live generation, replaced atomically
    index/gen-0001/      a Whoosh index, plus manifest.json (what each file contributed)
    index/LOCK           held (flock) by the one writer at a time

Incremental runs write into the live generation with Whoosh's own atomic commits; ``rebuild``
builds a fresh generation beside it and swaps ``CURRENT``, so readers keep the old one until
then. The manifest is a cache of what the index holds, written after each commit: if a crash
leaves it behind the index, the next run re-reads the files whose hash it does not know and
replaces their articles, which is idempotent.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from ... import atomic
from ...articles import Article
from ...errors import IndexDamagedError, IndexMissingError, SearchnewsError
from ...ingest import DEFAULT_WAIT, IndexReport, ProgressFn, index_paths, ingest, write_lock
from ...schema import make_schema
from ...vocabulary import Vocabulary
from . import integrity, patches
from .commits import MANIFEST, Committer, WriteSettings, load_manifest

OPEN_ATTEMPTS = 5           # generations a reader follows while rebuilds swap them

patches.apply()


def default_index_dir() -> Path:
    """``$SEARCHNEWS_INDEX``, else ``index/`` in the current folder (the project's own)."""
    return Path(os.environ.get("SEARCHNEWS_INDEX") or "index")


class Index:
    """A searchnews index folder: open it, add paths to it, search it."""

    def __init__(self, path: str | os.PathLike | None = None,
                 settings: WriteSettings | None = None):
        self.path = Path(path) if path is not None else default_index_dir()
        self.settings = settings or WriteSettings()       # how add_paths writes
        self._searcher = None
        self._gen: Path | None = None
        self._vocabulary: tuple | None = None
        self._current: tuple | None = None
        self._stamp: int | None = None           # the live generation's folder, when read

    # -- reading ---------------------------------------------------------------------------

    def current_dir(self) -> Path:
        """The live generation's folder; a clear error when there is no index yet. CURRENT
        is read again only when it was replaced (a query asks for it more than once)."""
        current = self.path / "CURRENT"
        try:
            st = os.stat(current)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._current is not None and self._current[0] == stamp:
                return self._current[1]
            name = current.read_text().strip()
        except FileNotFoundError:
            raise IndexMissingError(f"no index at {self.path}/: build one with "
                                    f"'searchnews index PATH...'") from None
        except OSError as exc:
            raise SearchnewsError(f"{self.path}/CURRENT: cannot read: {exc.strerror}") from None
        gen = self.path / name
        if not name.startswith("gen-") or not gen.is_dir():
            raise SearchnewsError(self._broken(f"CURRENT names a missing generation '{name}'"))
        self._current = (stamp, gen)
        return gen

    @property
    def exists(self) -> bool:
        return (self.path / "CURRENT").exists()

    def _refuse_damage(self, gen: Path, read_up_to: float = math.inf) -> None:
        """A one-line error naming what is damaged (contents read when the files are
        ``read_up_to`` bytes or fewer), and how to repair it."""
        found = integrity.damage(gen, read_up_to)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise IndexDamagedError(f"{self.path}/ is damaged: {gen.name}/{found[0]}{more}; "
                                    f"repair it with 'searchnews check --repair --index "
                                    f"{self.path}'")

    def check(self, repair: bool = False) -> dict:
        """Every listed file of the live generation read and compared with its checksum, and
        the index opened; with ``repair``, a damaged index is rebuilt from the files its
        manifest lists (articles whose file is gone cannot come back: they are counted)."""
        gen = self.current_dir()
        found = integrity.damage(gen)
        if not found:
            try:
                with self.searcher() as s:
                    s.doc_count()
            except SearchnewsError as exc:
                found = [str(exc)]
        out = {"index": str(self.path), "files": integrity.verified(gen), "damaged": found,
               "repaired": False}
        if found and repair:
            files = list(load_manifest(gen)["files"])
            present = [f for f in files if Path(f).exists()]
            self.close()
            report = self.add_paths(present, rebuild=True)
            out.update(repaired=not report.failed, rebuilt_from=len(present),
                       missing_files=len(files) - len(present), report=report.to_dict())
        return out

    def _broken(self, why: str) -> str:
        return (f"{self.path}/ is not a usable searchnews index ({why}); rebuild it with "
                f"'searchnews check --repair --index {self.path}' (or 'searchnews index "
                f"--rebuild --index {self.path} PATH...')")

    def _open_searcher(self) -> tuple[Path, Searcher]:
        """A searcher over the live generation; a corrupt or foreign folder becomes a
        one-line error.

        A rebuild may swap ``CURRENT`` and delete the old generation between our reading its
        name and opening its files; then whatever the half-deleted folder raised means only
        "look again", and we open the generation that is live now."""
        from ...query import WEIGHTING
        gen = self.current_dir()
        for _ in range(OPEN_ATTEMPTS):
            try:
                self._refuse_damage(gen, read_up_to=integrity.VERIFY_ON_OPEN)
                return gen, whoosh_index.open_dir(str(gen)).searcher(weighting=WEIGHTING)
            except IndexDamagedError:
                if self.current_dir() == gen:
                    raise
                gen = self.current_dir()
            except Exception as exc:  # noqa: BLE001 - whoosh raises many kinds on bad files
                live = self.current_dir()
                if live != gen:
                    gen = live
                    continue
                why = "files are missing" if isinstance(exc, FileNotFoundError) \
                    else f"{type(exc).__name__}: {exc}"
                raise SearchnewsError(self._broken(why)) from None
        raise SearchnewsError(f"{self.path}/: the index was rebuilt {OPEN_ATTEMPTS} times while "
                              "opening it; try again")

    @contextmanager
    def searcher(self):
        """A Whoosh searcher over the live generation, reused between calls and kept fresh:
        a new commit or a swapped generation is picked up, and the first query pays the
        opening cost alone. Whoosh errors from damaged files become one clear message."""
        gen = self.current_dir()
        try:
            stamp = os.stat(gen).st_mtime_ns     # a commit adds a table of contents to it
            if self._searcher is None or self._gen != gen:
                self.close()
                self._gen, self._searcher = self._open_searcher()
            elif stamp != self._stamp:
                self._searcher = self._searcher.refresh()
            self._stamp = stamp
            yield self._searcher
        except (UnicodeDecodeError, EOFError, OSError, ValueError, KeyError) as exc:
            self.close()
            raise SearchnewsError(self._broken(f"{type(exc).__name__}: {exc}")) from None

    def close(self) -> None:
        """Close the open searcher (its files); the Index stays usable."""
        if self._searcher is not None:
            self._searcher.close()
        self._searcher, self._gen = None, None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def search(self, query: str, limit: int = 10, **options) -> list:
        """Ranked hits for a query: see :func:`searchnews.pipeline.search`."""
        from ...pipeline import search
        with self.searcher() as s:
            return search(self._backend(s), query, limit=limit, **options)

    def _backend(self, searcher):
        """What the query pipeline asks of this index (:mod:`.backend`)."""
        from .backend import WhooshBackend
        return WhooshBackend(searcher, self.vocabulary)

    def vocabulary(self) -> Vocabulary:
        """The indexed words (for prefix, fuzzy, "did you mean"), loaded once per commit."""
        gen = self.current_dir()
        try:
            stamp = (gen, (gen / "vocabulary.json").stat().st_mtime_ns)
        except FileNotFoundError:           # not written yet, or a rebuild just removed it
            stamp = (gen, 0)
        if self._vocabulary is None or self._vocabulary[0] != stamp:
            self._vocabulary = (stamp, Vocabulary.load(gen))
        return self._vocabulary[1]

    def explain(self, query: str, **options) -> str:
        """How a query is parsed and what it searches: see :func:`searchnews.pipeline.explain`."""
        from ...pipeline import explain
        with self.searcher() as s:
            return explain(self._backend(s), query, **options)

    def similar(self, article_id: str, limit: int = 10) -> list:
        """Articles like this one: see :func:`searchnews.pipeline.similar`."""
        from ...pipeline import similar
        with self.searcher() as s:
            return similar(self._backend(s), article_id, limit=limit)

    def article(self, article_id: str) -> Article | None:
        """An indexed article, rebuilt from its stored paragraphs (None if not indexed)."""
        with self.searcher() as s:
            docs = sorted(s.documents(article_id=article_id), key=lambda d: d["paragraph"])
        if not docs:
            return None
        d = docs[0]
        return Article(article_id, d.get("title") or d.get("derived_title") or "",
                       tuple(x["text"] for x in docs), d.get("date_iso"), d.get("source_name"),
                       d.get("url"), title_derived="title" not in d)

    # -- writing ---------------------------------------------------------------------------

    def add_paths(self, paths: Iterable[str | os.PathLike], rebuild: bool = False,
                  wait: float = DEFAULT_WAIT, progress: ProgressFn | None = None,
                  on_total: Callable[[int], None] | None = None) -> IndexReport:
        """Index files and folders incrementally (mirror semantics for folders).

        New articles are added, changed ones (by content hash) replace their paragraphs, and
        articles whose file is gone from a folder given here are removed. A bad file is
        reported in ``report.failed`` and skipped; what it contributed before stays.
        """
        return index_paths(
            paths, str(self.path), lambda: write_lock(self.path / "LOCK", wait, f"{self.path}/"),
            lambda files, roots, report: self._update(files, roots, rebuild, report, progress),
            on_total)

    def _update(self, files: list[tuple[Path, Path | None]], roots: list[Path], rebuild: bool,
                report: IndexReport, progress: ProgressFn | None) -> None:
        self._remove_stale_generations()
        fresh = rebuild or not self.exists
        if not fresh:                    # never report success over a damaged index
            self._refuse_damage(self.current_dir())
        gen = self._new_generation() if fresh else self.current_dir()
        manifest = {"version": 1, "files": {}} if fresh else load_manifest(gen)
        ix = whoosh_index.open_dir(str(gen)) if not fresh else \
            whoosh_index.create_in(str(gen), make_schema(self.settings.positions))
        # A first build is published at its first commit, so a crash keeps what was done;
        # a rebuild is published only when complete, so the old index answers until then.
        publish = (lambda: atomic.write_text(self.path / "CURRENT", gen.name + "\n")) \
            if fresh and not rebuild else None
        writer = Committer(ix, gen, manifest, fresh, publish, self.settings)
        try:
            ingest(files, roots, manifest["files"], writer, report, progress)
            if fresh and not rebuild and not manifest["files"]:
                # a first run that found nothing to index (a typo, an empty folder) leaves
                # no index behind: the next query says so, or builds the default from seeds/
                writer.cancel()
                shutil.rmtree(gen, ignore_errors=True)
                return
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        finally:
            writer.close()
        if rebuild:
            atomic.write_text(self.path / "CURRENT", gen.name + "\n")
            self._remove_stale_generations()

    def _new_generation(self) -> Path:
        numbers = [int(p.name[4:]) for p in self.path.glob("gen-*") if p.name[4:].isdigit()]
        gen = self.path / f"gen-{max(numbers, default=0) + 1:04d}"
        gen.mkdir(parents=True)
        return gen

    def _remove_stale_generations(self) -> None:
        """Under the write lock, any generation that is not live is an old or crashed one."""
        live = (self.path / "CURRENT").read_text().strip() if self.exists else None
        for gen in self.path.glob("gen-*"):
            if gen.name != live:
                shutil.rmtree(gen, ignore_errors=True)

    # -- inspecting ------------------------------------------------------------------------

    def stats(self) -> dict:
        """What the index holds: counts, sources, date range, size, last update."""
        gen = self.current_dir()
        manifest = load_manifest(gen)
        schema_date = make_schema()["date"]
        with self.searcher() as s:
            r = s.reader()
            dates = list(schema_date.sortable_terms(r, "date"))
            sources = _live_sources(s)
            out = {
                "index": str(self.path),
                # the manifest lists the articles indexed now; Whoosh's term lists still hold
                # those removed until their segment is merged
                "articles": sum(len(e["articles"]) for e in manifest["files"].values()),
                "paragraphs": r.doc_count(),
                "terms": sum(1 for _ in r.lexicon("text")),
                "titles_indexed": any(True for _ in r.lexicon("title")),
                "files": len(manifest["files"]),
                "size_bytes": sum(p.stat().st_size for p in gen.iterdir() if p.is_file()),
                "sources": sources,
                "date_first": _day(schema_date, dates[0]) if dates else None,
                "date_last": _day(schema_date, dates[-1]) if dates else None,
                "updated": dt.datetime.fromtimestamp(
                    (gen / MANIFEST).stat().st_mtime, dt.timezone.utc).isoformat(timespec="seconds")
                if (gen / MANIFEST).exists() else None,
            }
        return out


def _live_sources(searcher) -> dict[str, int]:
    """Paragraphs per outlet, most first, removed ones not counted, each outlet named as its
    latest article writes it (ties: the smallest article id), as outlets rename themselves:
    the index keeps the folded name, which joins the spellings."""
    import numpy as np
    from . import columnar
    from .backend import NO_DATE, date_values
    r = searcher.reader()
    columns = columnar.Columns.of(searcher)
    dates = date_values(searcher).astype(np.float64)
    dates[dates == float(NO_DATE)] = -1.0                  # undated: before every date
    article_id = r.column_reader("article_id")
    found: list[tuple[str, int]] = []
    for t in r.lexicon("source"):
        live = columns.postings("source", t)[0] if columns is not None else \
            np.fromiter((d for d in r.postings("source", t).all_ids() if not r.is_deleted(d)),
                        np.int64)
        if len(live):
            latest = live[dates[live] == dates[live].max()].tolist()
            first = min(latest, key=lambda d: (article_id[d], d))
            found.append((r.stored_fields(first).get("source_name") or t.decode(), len(live)))
    return dict(sorted(found, key=lambda kv: -kv[1]))


def _day(field_type, term: bytes) -> str:
    return field_type.from_bytes(term).date().isoformat()
