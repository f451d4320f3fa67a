"""Rows written to the shards: each article to shard ``crc32(article_id) % N`` and every
mirror of it, in batches, and the BM25 parameters that make Sphinx's scores the embedded
engine's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ...analysis import fold
from ...articles import Article
from ...ingest import COMMIT_EVERY
from ...query import WEIGHTING
from .sphinxql import _clean, article_key, day_number, doc_id, field_text, shard_of, \
    source_token

if TYPE_CHECKING:
    from .engine import SphinxEngine

ROWS_PER_STATEMENT = 500      # REPLACE ... VALUES (...),(...) rows
ROWS_PER_FLUSH = 5000         # buffered rows before they are written
KEYS_PER_DELETE = 1000
K1, B = WEIGHTING.K1, WEIGHTING.B


def bm25_parameters(docs_per_shard: float, tokens_per_shard: float) -> tuple[float, float]:
    """k1', b' that make Sphinx 2.2's RT bm25a equal to BM25(K1, B): RT indexes give the
    ranker avgdl = 1/N, so ``k1'(1 - b' + b'·dl·N)`` is solved to equal
    ``k1(1 - b + b·dl/avgdl)`` with the true avgdl = tokens/N (FINDINGS, finding 2)."""
    kb = K1 * B / max(tokens_per_shard, 1.0)
    k1 = K1 * (1 - B) + kb
    return k1, kb / k1


class _Writer:
    """The :class:`searchnews.ingest.Writer` for Sphinx: rows are buffered and written per
    shard (deletes first, so a replaced article loses its old paragraphs); the manifest is
    saved in ``<name>_files`` after each commit, so it never gets ahead of the shards."""

    def __init__(self, engine: SphinxEngine, known: dict, fresh: bool):
        self.engine, self.known, self.fresh = engine, known, fresh
        self.n = len(engine.shards)
        self.rows: dict[str, list[tuple]] = {}
        self.deletes: set[str] = set()
        self.buffered = 0
        self.pending = 0
        self.saved = {p: json.dumps(e, sort_keys=True) for p, e in known.items()}

    def replace(self, a: Article) -> None:
        if not self.fresh:
            self.deletes.add(a.article_id)
        self.rows[a.article_id] = _rows(a)
        self.buffered += len(a.paragraphs)
        self.pending += len(a.paragraphs)
        if self.buffered >= ROWS_PER_FLUSH:
            self.flush()

    def delete(self, article_id: str) -> None:
        self.rows.pop(article_id, None)
        self.deletes.add(article_id)
        self.pending += 1

    def maybe_commit(self) -> None:
        if self.pending >= COMMIT_EVERY:
            self.commit()

    def flush(self) -> None:
        """Write what is buffered: each shard's deletes, then its rows, on every mirror."""
        for shard in range(self.n):
            keys = [article_key(a) for a in self.deletes if shard_of(a, self.n) == shard]
            rows = [r for a, rs in self.rows.items() if shard_of(a, self.n) == shard
                    for r in rs]
            for host, port in self.engine.shards[shard]:
                node = self.engine._writer(host, port)
                for i in range(0, len(keys), KEYS_PER_DELETE):
                    chunk = keys[i:i + KEYS_PER_DELETE]
                    node.run(f"DELETE FROM {self.engine.name}_shard WHERE article_key IN "
                             f"({','.join(map(str, chunk))})")
                for i in range(0, len(rows), ROWS_PER_STATEMENT):
                    chunk = rows[i:i + ROWS_PER_STATEMENT]
                    values = ",".join(["(" + ",".join(["%s"] * len(ROW_COLUMNS)) + ")"]
                                      * len(chunk))
                    node.run(f"REPLACE INTO {self.engine.name}_shard "
                             f"({','.join(ROW_COLUMNS)}) VALUES {values}",
                             [v for r in chunk for v in r])
        self.rows.clear()
        self.deletes.clear()
        self.buffered = 0

    def commit(self) -> None:
        self.flush()
        current = {p: json.dumps(e, sort_keys=True) for p, e in self.known.items()}
        changed: dict[str, dict | None] = {p: self.known[p] for p, s in current.items()
                                          if self.saved.get(p) != s}
        changed.update({p: None for p in self.saved if p not in current})
        if changed:
            self.engine._save_manifest(changed)
        self.saved = current
        self.pending = 0


ROW_COLUMNS = ("id", "title", "text", "words", "source", "article_key", "article_id",
               "paragraph", "n_paragraphs", "date", "date_iso", "title_raw", "title_derived",
               "text_raw", "source_name", "source_id", "url")


def _rows(a: Article) -> list[tuple]:
    """One row per paragraph, in ROW_COLUMNS order, analysed as the embedded engine does."""
    source = fold(" ".join(a.source.split())) if a.source else ""
    # a title derived from the text is shown, not searched (as in the embedded engine)
    searched = "" if a.title_derived else a.title
    title_terms, title_words = field_text(searched), field_text(searched, stem=False)
    key, day, n = article_key(a.article_id), day_number(a.date), len(a.paragraphs)
    return [(doc_id(a.article_id, i), title_terms, field_text(text),
             (title_words + " " + field_text(text, stem=False)).strip(),
             source_token(source) if source else "", key, _clean(a.article_id), i, n, day,
             a.date or "", _clean(a.title), int(a.title_derived), _clean(text),
             _clean(a.source if source else ""), source, _clean(a.url))
            for i, text in enumerate(a.paragraphs)]
