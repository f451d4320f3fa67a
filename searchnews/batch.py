"""Many queries against one index (``searchnews query --batch``), spread over the cores.

Queries are independent and read the index only, so a long batch is dealt out, a chunk at a
time, to worker processes that each open the index for themselves (its files are memory
maps the processes share), and their answers come back in the order of the queries. Whoosh
answers a query in one thread: a batch of them would leave every core but one idle. A short
batch, or an engine on a server, is answered in this process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
from typing import Callable, Iterable, Iterator, TypeVar

from .errors import SearchnewsError
from .engines.whoosh import Index
from .records import Results

CHUNK = 16                 # queries per message to a worker
PARALLEL_FROM = 64         # queries a batch has before it is spread (a process costs ~20 ms)
# Worker processes for a long batch (0 or 1: this process alone).
WORKERS = int(os.environ.get("SEARCHNEWS_WORKERS") or os.cpu_count() or 1)

T = TypeVar("T")
Answer = Callable[[object, "Results | SearchnewsError"], T]   # (query id, hits or error)


def run(ix, queries: Iterable[tuple[object, str]], options: dict, answer: Answer
        ) -> Iterator[T]:
    """``answer(query id, hits)`` for each (query id, text), in order; ``hits`` is the
    error when a query fails. ``options``: those of :meth:`Index.search`."""
    queries = iter(queries)
    head = list(itertools.islice(queries, PARALLEL_FROM))
    if len(head) < PARALLEL_FROM or WORKERS < 2 or type(ix) is not Index:
        for qid, text in itertools.chain(head, queries):
            yield answer(qid, _search(ix, text, options))
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(WORKERS, initializer=_start, initargs=(ix.path, options, answer)) as pool:
        for answers in pool.imap(_answer_all, _chunks(itertools.chain(head, queries))):
            yield from answers


def _search(ix, text: str, options: dict) -> Results | SearchnewsError:
    try:
        return ix.search(text, **options)
    except SearchnewsError as exc:
        return exc


def _chunks(queries: Iterator[tuple[object, str]]) -> Iterator[list[tuple[object, str]]]:
    while chunk := list(itertools.islice(queries, CHUNK)):
        yield chunk


_worker: tuple | None = None       # a worker process's index, options and answer


def _start(path, options: dict, answer: Answer) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the parent's to handle
    _worker = (Index(path), options, answer)


def _answer_all(chunk: list[tuple[object, str]]) -> list:
    ix, options, answer = _worker
    return [answer(qid, _search(ix, text, options)) for qid, text in chunk]
