#!/usr/bin/env python3
"""Stock-Whoosh baseline: what a plain Whoosh 2.7.4 setup gives, for searchnews to beat.

Schema id/title/text (stored)/date/source, Whoosh's own LanguageAnalyzer("es") (both from
searchnews/stock.py, which `searchnews eval --stock` uses too), one writer with default
settings, default highlighter. Queries go through Whoosh's default MultifieldParser over
title and text (all words required); pasted headlines and questions (benchlib.PLAIN_KINDS),
where requiring every word would find nothing, are the OR of their words (stock.any_word, as
`searchnews eval --stock` runs them). Run as a child by run.py (see benchlib.adapter_main):

    python bench/baseline.py build CORPUS.jsonl INDEX_DIR      # prints stats JSON
    python bench/baseline.py latency INDEX_DIR [--per-kind N] [--repeats R]
    python bench/baseline.py query INDEX_DIR "texto" [--since 2015-01-01 --until 2018-12-31]
"""
from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.qparser import MultifieldParser
from whoosh.query import DateRange

from benchlib import (PLAIN_KINDS, QuerySpec, SearchFn, adapter_main, measure_latency,
                      read_jsonl)
from searchnews import stock

SEARCH_FIELDS = ("title", "text")   # a news search box looks in headlines and body


def build(corpus_jsonl: Path, index_dir: Path) -> dict:
    """Index every paragraph of corpus_jsonl into a new index at index_dir; timing stats."""
    t0 = time.perf_counter()
    n = stock.build(read_jsonl(corpus_jsonl), index_dir)
    elapsed = time.perf_counter() - t0
    return {"paragraphs": n, "elapsed_s": elapsed,
            "paragraphs_per_s": n / elapsed if elapsed else 0.0}


def date_range(since: str | None, until: str | None) -> DateRange | None:
    """Inclusive whole-day range built in code (not by the query parser)."""
    if not since and not until:
        return None
    start = dt.datetime.fromisoformat(since) if since else None
    end = dt.datetime.fromisoformat(until).replace(hour=23, minute=59, second=59) if until else None
    return DateRange("date", start, end)


@contextmanager
def open_search(index_dir: Path) -> Iterator[SearchFn]:
    """A warm search function over one open searcher: spec -> top hits with snippets."""
    ix = whoosh_index.open_dir(str(index_dir))
    parser = MultifieldParser(list(SEARCH_FIELDS), ix.schema)
    with ix.searcher() as searcher:
        def search(spec: QuerySpec, limit: int = 10) -> list[dict]:
            if spec["kind"] in PLAIN_KINDS:
                query = stock.any_word(searcher, spec["query"], SEARCH_FIELDS)
            else:
                query = parser.parse(spec["query"])
            results = searcher.search(query, limit=limit,
                                      filter=date_range(spec.get("since"), spec.get("until")))
            return [{"id": hit["id"], "score": hit.score, "title": hit.get("title"),
                     "date": hit.get("date").date().isoformat() if hit.get("date") else None,
                     "snippet": hit.highlights("text")} for hit in results]
        yield search


def search(index_dir: Path, query_spec: QuerySpec, limit: int = 10) -> list[dict]:
    """Top `limit` hits with highlighted snippets (opens the index for this one query)."""
    with open_search(index_dir) as run:
        return run(query_spec, limit)


def warm_latency(index_dir: Path, specs: list[QuerySpec], repeats: int = 3) -> dict:
    """Warm latency (ms percentiles per query kind) over one open searcher."""
    with open_search(index_dir) as run:
        return measure_latency(run, specs, repeats)


if __name__ == "__main__":
    sys.exit(adapter_main("baseline", build, open_search))
