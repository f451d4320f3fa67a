#!/usr/bin/env python3
"""searchnews side of the benchmark, through its public Python API only.

Same child CLI as baseline.py (benchlib.adapter_main), plus `reindex` (unchanged add_paths).
Pasted headlines and questions (benchlib.PLAIN_KINDS) run as plain words (`syntax=False`, what
`searchnews query -w` does); the other kinds with the query syntax, as typed.

    python bench/searchnews_adapter.py build CORPUS.jsonl INDEX_DIR
    python bench/searchnews_adapter.py reindex CORPUS.jsonl INDEX_DIR
    python bench/searchnews_adapter.py latency INDEX_DIR [--per-kind N] [--repeats R]
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchlib import PLAIN_KINDS, PROJECT_ROOT, QuerySpec, SearchFn, adapter_main

sys.path.append(str(PROJECT_ROOT))  # the repo's package when it is not pip-installed
from searchnews import Index  # noqa: E402

REPORT_COUNTS = ("added", "updated", "removed", "unchanged", "paragraphs")


def _add(corpus_jsonl: Path, index_dir: Path) -> dict:
    """One timed add_paths call; the report's counts."""
    t0 = time.perf_counter()
    report = Index(index_dir).add_paths([str(corpus_jsonl)])
    elapsed = time.perf_counter() - t0
    counts = {k: getattr(report, k, None) for k in REPORT_COUNTS}
    counts["failed"] = len(getattr(report, "failed", []) or [])
    counts["warnings"] = len(getattr(report, "warnings", []) or [])
    return {"elapsed_s": elapsed, "report": counts}


def build(corpus_jsonl: Path, index_dir: Path) -> dict:
    """Index the corpus into a new index at index_dir."""
    out = _add(corpus_jsonl, index_dir)
    n = out["report"]["paragraphs"] or 0
    return {**out, "paragraphs": n, "paragraphs_per_s": n / out["elapsed_s"]}


def reindex(corpus_jsonl: Path, index_dir: Path) -> dict:
    """add_paths again on the unchanged corpus (should be a no-op check)."""
    return _add(corpus_jsonl, index_dir)


@contextmanager
def open_search(index_dir: Path) -> Iterator[SearchFn]:
    """spec -> top hits through Index.search (which manages its own searcher)."""
    ix = Index(index_dir)

    def search(spec: QuerySpec, limit: int = 10) -> list[dict]:
        hits = ix.search(spec["query"], limit=limit, since=spec.get("since"),
                         until=spec.get("until"), syntax=spec["kind"] not in PLAIN_KINDS)
        return [{"score": h.score, "text": h.text, "highlights": list(h.highlights)}
                for h in hits]
    yield search


if __name__ == "__main__":
    sys.exit(adapter_main("searchnews", build, open_search, reindex))
