"""The Sphinx engine's surface, as :class:`searchnews.Index`'s: search, add, read, stats.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ... import pipeline
from ...articles import Article
from ...errors import SearchnewsError
from ...ingest import DEFAULT_WAIT, IndexReport, ProgressFn, index_paths, ingest, \
    write_lock
from ...query import TITLE_BOOST
from ...records import Results
from .backend import COLUMNS, SphinxBackend
from .nodes import QUERY_TIMEOUT, WRITE_TIMEOUT, _agent_message, _Node, parse_url
from .sphinxql import _hash63, article_key, token
from .writer import K1, _Writer, bm25_parameters

MIRROR_RETRIES = 4            # extra tries when a mirrored agent fails (HA picks another)
MAX_ROWS = 100_000            # "all" rows: article(), prefix candidates, outlets
SCORE_SCALE = 1_000_000       # WEIGHT() is an integer: the ranker scales BM25 by this
TOTALS_TTL = 30.0             # seconds BM25 totals (docs, tokens) are cached
ARTICLES_PER_MANIFEST_ROW = 2000


# -- the engine ------------------------------------------------------------------------------

class SphinxEngine:
    """A searchnews index held by a Sphinx cluster; the same surface as :class:`Index`."""

    def __init__(self, url: str):
        self.url = url
        self.path = url                          # what messages and reports name
        self.shards, self.name = parse_url(url)
        host, port = self.shards[0][0]
        self.where = f"sphinx://{host}:{port}/{self.name}"
        self.node0 = _Node(host, port, self.where, QUERY_TIMEOUT)
        self._writers: dict[tuple[str, int], _Node] = {}
        self._totals: tuple[float, tuple[int, int]] | None = None
        self._paragraphs = 0
        self._layout: tuple[int, bool] | None = None

    @classmethod
    def from_url(cls, url: str) -> "SphinxEngine":
        return cls(url)

    def __enter__(self) -> "SphinxEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.node0.close()
        for node in self._writers.values():
            node.close()

    # -- low level -------------------------------------------------------------------------

    def layout(self) -> tuple[int, bool]:
        """(shards, any mirrored) as node 0's distributed index declares them."""
        if self._layout is None:
            rows = self._run(f"DESCRIBE {self.name}")[0]
            kinds = [str(r[1]) for r in rows]
            if not kinds or not all(k == "local" or k.startswith("remote_") for k in kinds):
                raise SearchnewsError(
                    f"{self.where}: '{self.name}' is not a searchnews distributed index "
                    f"(write configs with 'searchnews sphinx config')")
            remote = {k.split("_")[1] for k in kinds if k.startswith("remote_")}
            self._layout = (kinds.count("local") + len(remote),
                            any("_mirror_" in k for k in kinds))
        return self._layout

    def _run(self, sql: str, args: Sequence | None = None) -> list[tuple]:
        try:
            return self.node0.run(sql, args)
        except SearchnewsError as exc:
            text = str(exc)
            if re.search(r"(unknown local index|no such index) '?" + self.name, text):
                raise SearchnewsError(f"{self.where}: no index '{self.name}' on this server "
                                      f"(write configs with 'searchnews sphinx config')"
                                      ) from None
            if "remote query error" in text or "agent " not in text:
                raise
            raise SearchnewsError(_agent_message(self.where, [text])) from None

    def select(self, match: str, where: list[str], args: list, order: str,
               limit: int) -> list[tuple]:
        """Rows (id, weight, COLUMNS...) of the distributed index, complete or an error: a
        shard that does not answer makes the result partial, which is never returned."""
        sql = (f"SELECT id, WEIGHT() AS w, {', '.join(COLUMNS)} FROM {self.name} "
               f"WHERE {' AND '.join(['MATCH(%s)'] + where)} ORDER BY {order} "
               f"LIMIT 0,{int(limit)} OPTION max_matches={max(int(limit), 1)}, "
               f"{self.ranker()}; SHOW META; SHOW WARNINGS")
        return self._checked(sql, [match] + args)[0]

    def _checked(self, sql: str, args: list) -> list[tuple]:
        """Run a distributed SELECT; retry while SHOW WARNINGS names a failed agent (with
        mirrors, HA moves to another one), then fail with the agent's name."""
        tries = 1 + (MIRROR_RETRIES if self.layout()[1] else 1)
        for attempt in range(tries):
            sets = self._run(sql, args)
            problems = [str(r[2]) for r in sets[-1] if "agent" in str(r[2])]
            if not problems:
                return sets
            time.sleep(0.02 * attempt)
        raise SearchnewsError(_agent_message(self.where, problems))

    def ranker(self) -> str:
        """The OPTIONs that rank, close to the embedded engine's BM25F: BM25 over all
        fields with k1/b transformed for RT indexes (:func:`bm25_parameters`; shards assumed
        of equal size), plus the title's matches again, weighted like Whoosh's title boost
        (1.5 × idf, in the units of :meth:`score_unit`). ``field_weights`` only marks the
        title field for ``sum()``; nothing else here reads user weights."""
        n_docs, n_tokens = self.totals()
        shards = self.layout()[0]
        k1, b = bm25_parameters(n_docs / shards, n_tokens / shards)
        title = TITLE_BOOST / (K1 + 1)
        return (f"ranker=expr('{SCORE_SCALE}*((bm25a({k1:.9g},{b:.9g})-0.5) + "
                f"{title:.6g}*sum(tf_idf*if(user_weight>1,1,0)))'), "
                f"idf='plain,tfidf_unnormalized', field_weights=(title=2)")

    def score_unit(self) -> float:
        """WEIGHT() → a BM25 score in the embedded engine's units. Sphinx's ``plain`` IDF
        is ``log(N/n) / (2·log(N+1))`` per shard and its BM25 lacks the ``(k1+1)`` factor;
        undoing both gives ``Σ log(N/n)·tf·(k1+1)/(tf+K)``, comparable with Whoosh's BM25F
        (whose IDF is ``log(N/(n+1)) + 1``) and with the proximity bonus added to it."""
        n_docs = self.totals()[0] / self.layout()[0]
        return 2 * math.log(n_docs + 1) * (K1 + 1) / SCORE_SCALE

    def count(self, match: str) -> int:
        return self.counts([match])[0]

    def counts(self, matches: list[str]) -> list[int]:
        """How many paragraphs each MATCH() finds, in one round trip (a dead agent fails
        every statement alike, so the last one's warnings are checked)."""
        sql = " ".join(f"SELECT id FROM {self.name} WHERE MATCH(%s) LIMIT 1 "
                       f"OPTION ranker=none; SHOW META;" for _ in matches)
        sets = self._checked(sql + " SHOW WARNINGS", list(matches))
        return [int(dict((r[0], r[1]) for r in meta).get("total_found", 0))
                for meta in sets[1::2]]

    def totals(self) -> tuple[int, int]:
        """(paragraphs, tokens over all fields) of the cluster: the BM25 length norm."""
        now = time.monotonic()
        if self._totals is None or now - self._totals[0] > TOTALS_TTL:
            sets = self._checked(
                f"SELECT COUNT(*), SUM(title_len), SUM(text_len), SUM(words_len), "
                f"SUM(source_len) FROM {self.name}; SHOW META; SHOW WARNINGS", [])
            row = [int(x or 0) for x in (sets[0][0] if sets[0] else (0,))]
            self._totals = (now, (max(1, row[0]), max(1, sum(row[1:]))))
            self._paragraphs = row[0]
        return self._totals[1]

    def paragraphs(self) -> int:
        """Live paragraphs of the cluster, as :meth:`totals` counted them (a count of 0 is
        counted again: an index filled since is never taken for empty)."""
        self.totals()
        if not self._paragraphs:
            self._totals = None
            self.totals()
        return self._paragraphs

    def texts(self, match: str) -> list[tuple[str, str]]:
        """(title, text) of every paragraph matching ``match``."""
        total = self.count(match)
        if not total:
            return []
        sets = self._checked(
            f"SELECT id, title_raw, text_raw FROM {self.name} WHERE MATCH(%s) "
            f"LIMIT 0,{min(total, MAX_ROWS)} OPTION max_matches={min(total, MAX_ROWS)}, "
            f"ranker=none; SHOW META; SHOW WARNINGS", [match])
        return [(r[1], r[2]) for r in sets[0]]

    def source_counts(self) -> dict[str, int]:
        """Paragraphs per outlet (folded name), most first: ``stats`` and ``fuente:``."""
        sets = self._checked(f"SELECT source_id, COUNT(*) AS c FROM {self.name} "
                             f"WHERE source_id != '' GROUP BY source_id ORDER BY c DESC "
                             f"LIMIT 0,{MAX_ROWS} OPTION max_matches={MAX_ROWS}; "
                             f"SHOW META; SHOW WARNINGS", [])
        return {r[0]: int(r[1]) for r in sets[0]}

    def _sources_as_written(self) -> dict[str, int]:
        """Paragraphs per outlet, most first, each named as its latest article writes it
        (ties: the smallest article id), as the embedded engine picks the name."""
        sets = self._checked(f"SELECT source_id, source_name, COUNT(*) AS c FROM {self.name} "
                             f"WHERE source_id != '' GROUP BY source_id WITHIN GROUP ORDER BY "
                             f"date DESC, article_id ASC ORDER BY c DESC "
                             f"LIMIT 0,{MAX_ROWS} OPTION max_matches={MAX_ROWS}; "
                             f"SHOW META; SHOW WARNINGS", [])
        return {r[1] or r[0]: int(r[2]) for r in sets[0]}

    # -- reading ---------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """Whether anything was indexed (the manifest in ``<name>_files`` has a row)."""
        rows = self._run(f"SELECT COUNT(*) FROM {self.name}_files")[0]
        return bool(rows and rows[0][0])

    def search(self, query: str, limit: int = 10, **options) -> Results:
        """Ranked hits, as :meth:`Index.search` gives them: the same pipeline
        (:func:`searchnews.pipeline.search`), this cluster answering it."""
        return pipeline.search(SphinxBackend(self), query, limit=limit, **options)

    def explain(self, query: str, **options) -> str:
        """The embedded engine's explanation, plus the MATCH() strings sent to Sphinx."""
        return pipeline.explain(SphinxBackend(self), query, **options)

    def similar(self, article_id: str, limit: int = 10) -> Results:
        """Articles about the same thing (:func:`searchnews.pipeline.similar`). Sphinx 2.2
        has no per-term boosts, so the key terms count equally in the ranking."""
        return pipeline.similar(SphinxBackend(self), article_id, limit=limit)

    def frequencies(self, words: list[str]) -> dict[str, int]:
        """Occurrences of each term in the cluster (CALL KEYWORDS on every shard)."""
        out: dict[str, int] = {}
        text = " ".join(token(w) for w in words)
        for mirrors in self.shards:
            for row in self._on_a_mirror(mirrors, f"CALL KEYWORDS(%s, '{self.name}_shard', 1)",
                                         [text])[0]:
                out[str(row[2])] = out.get(str(row[2]), 0) + int(row[4])
        return {w: out.get(token(w), 0) for w in words}

    def article(self, article_id: str) -> Article | None:
        """An indexed article, rebuilt from its paragraphs' attributes (None if absent)."""
        sets = self._checked(
            f"SELECT id, paragraph, article_id, title_raw, text_raw, date_iso, source_name, "
            f"url, title_derived FROM {self.name} WHERE article_key = %s ORDER BY paragraph ASC "
            f"LIMIT 0,{MAX_ROWS} OPTION max_matches={MAX_ROWS}; SHOW META; SHOW WARNINGS",
            [article_key(article_id)])
        rows = [r for r in sets[0] if r[2] == article_id]
        if not rows:
            return None
        first = rows[0]
        return Article(article_id, first[3], tuple(r[4] for r in rows), first[5] or None,
                       first[6] or None, first[7] or None, title_derived=bool(int(first[8])))

    def stats(self) -> dict:
        """The embedded engine's figures; ``terms`` is 0: Sphinx 2.2 does not expose the
        size of an RT dictionary."""
        files, updated = self._load_manifest()
        paragraphs = self._checked(f"SELECT COUNT(*) FROM {self.name}; SHOW META; "
                                   f"SHOW WARNINGS", [])[0]
        dates = self._checked(f"SELECT MIN(date), MAX(date) FROM {self.name} WHERE date > 0; "
                              f"SHOW META; SHOW WARNINGS", [])[0]
        titled = self._checked(f"SELECT COUNT(*) FROM {self.name} WHERE title_len > 0; "
                               f"SHOW META; SHOW WARNINGS", [])[0]
        size = 0
        for mirrors in self.shards:
            status = dict(self._on_a_mirror(mirrors, f"SHOW INDEX {self.name}_shard STATUS")[0])
            size += int(status.get("ram_bytes", 0)) + int(status.get("disk_bytes", 0))
        first, last = (dates[0] if dates and dates[0][0] else (0, 0))
        return {
            "index": self.url,
            "articles": sum(len(e["articles"]) for e in files.values()),
            "paragraphs": int(paragraphs[0][0]) if paragraphs else 0,
            "terms": 0,
            "titles_indexed": bool(titled and int(titled[0][0])),
            "files": len(files),
            "size_bytes": size,
            "sources": self._sources_as_written(),
            "date_first": dt.date.fromordinal(int(first)).isoformat() if first else None,
            "date_last": dt.date.fromordinal(int(last)).isoformat() if last else None,
            "updated": dt.datetime.fromtimestamp(updated, dt.timezone.utc).isoformat(
                timespec="seconds") if updated else None,
        }

    # -- writing ---------------------------------------------------------------------------

    def _on_a_mirror(self, mirrors: list[tuple[str, int]], sql: str,
                     args: Sequence | None = None) -> list:
        """A shard's answer from the first of its mirrors that gives one: a read needs one
        copy of the shard, not every node (the last failure is the error)."""
        for i, (host, port) in enumerate(mirrors):
            try:
                return self._writer(host, port, read_timeout=QUERY_TIMEOUT).run(sql, args)
            except SearchnewsError:
                if i == len(mirrors) - 1:
                    raise
        raise SearchnewsError(f"{self.url}: a shard with no node")

    def _writer(self, host: str, port: int, read_timeout: float = WRITE_TIMEOUT) -> _Node:
        key = (host, port)
        if key not in self._writers:
            shard = next(i for i, m in enumerate(self.shards) if key in m)
            self._writers[key] = _Node(host, port, f"sphinx://{host}:{port} (shard {shard} "
                                       f"of {self.name})", read_timeout)
        return self._writers[key]

    def add_paths(self, paths: Iterable[str | os.PathLike], rebuild: bool = False,
                  wait: float = DEFAULT_WAIT, progress: ProgressFn | None = None,
                  on_total: Callable[[int], None] | None = None) -> IndexReport:
        """Index files and folders incrementally, as :meth:`Index.add_paths` does (the same
        :func:`ingest`). ``rebuild`` empties every shard first: Sphinx RT indexes cannot be
        swapped, so queries see the index fill up again."""
        def update(files: list[tuple[Path, Path | None]], roots: list[Path],
                   report: IndexReport) -> None:
            self._check_shards()
            if rebuild:
                for mirrors in self.shards:
                    for host, port in mirrors:
                        self._writer(host, port).run(f"TRUNCATE RTINDEX {self.name}_shard")
                self._files_node().run(f"TRUNCATE RTINDEX {self.name}_files")
            known = {} if rebuild else self._load_manifest()[0]
            writer = _Writer(self, known, fresh=rebuild)
            ingest(files, roots, known, writer, report, progress)
            writer.commit()
            self._totals = None

        return index_paths(paths, self.url, lambda: self._write_lock(wait), update, on_total)

    def _check_shards(self) -> None:
        """Writing routes by the number of shards: the URL must list them all."""
        declared, _ = self.layout()
        if declared != len(self.shards):
            raise SearchnewsError(
                f"{self.where}: the index has {declared} shards but the URL lists "
                f"{len(self.shards)}; to write, give every shard's SphinxQL address, node 0 "
                f"first: sphinx://HOST:PORT,HOST:PORT.../{self.name}")

    def _files_node(self) -> _Node:
        return self._writer(*self.shards[0][0])

    def _write_lock(self, wait: float):
        """One writer at a time *on this machine*: a flock on a file named after node 0's
        address and the index. Sphinx 2.2 has no lock of its own (see docs/sphinx.md)."""
        key = hashlib.sha1(self.where.encode()).hexdigest()[:16]
        return write_lock(Path(tempfile.gettempdir()) / f"searchnews-sphinx-{key}.lock", wait,
                          self.where)

    def _load_manifest(self) -> tuple[dict, int]:
        """(files → entry, last update as a Unix time) from ``<name>_files``."""
        node = self._files_node()
        total = node.run(f"SELECT COUNT(*) FROM {self.name}_files")[0][0][0]
        if not total:
            return {}, 0
        rows = node.run(f"SELECT path, part, sha, articles, updated FROM {self.name}_files "
                        f"ORDER BY part ASC LIMIT 0,{total} OPTION max_matches={total}")[0]
        files: dict[str, dict] = {}
        for path, _part, sha, articles, _ in rows:
            entry = files.setdefault(path, {"sha": sha or None, "articles": {}})
            entry["articles"].update(json.loads(articles))
        return files, max(int(r[4]) for r in rows)

    def _save_manifest(self, changed: dict[str, dict | None]) -> None:
        """Replace the rows of each changed file (None: the file is gone)."""
        node = self._files_node()
        now = int(time.time())
        for path, entry in changed.items():
            key = _hash63("file", path)
            node.run(f"DELETE FROM {self.name}_files WHERE path_key = %s", [key])
            if entry is None:
                continue
            items = list(entry["articles"].items())
            chunks = [items[i:i + ARTICLES_PER_MANIFEST_ROW]
                      for i in range(0, len(items), ARTICLES_PER_MANIFEST_ROW)] or [[]]
            for part, chunk in enumerate(chunks):
                node.run(f"INSERT INTO {self.name}_files (id, name, path_key, part, path, sha, "
                         f"articles, updated) VALUES (%s, '', %s, %s, %s, %s, %s, %s)",
                         [_hash63("file", path, str(part)), key, part, path,
                          entry.get("sha") or "", json.dumps(dict(chunk), ensure_ascii=False),
                          now])
