"""Shared helpers for the benchmark scripts: paths, the query mix, child processes with peak
RSS, latency statistics, and the small child CLI every engine adapter exposes."""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
QUERIES_FILE = BENCH_DIR / "queries.jsonl"
TITLE_QUERIES_FILE = BENCH_DIR / "title_queries.txt"   # the one-process --batch measurement
SHARED_DIR = PROJECT_ROOT.parent / "shared"            # ../shared beside the project, as in CI
FAKENEWS_DIR = SHARED_DIR / "corpora" / "fakenews_es"
SQUAD_QUERIES = SHARED_DIR / "eval" / "squad-es" / "queries.jsonl"
KINDS = ("one", "multi", "phrase", "date", "title", "headline", "question")
PLAIN_KINDS = frozenset({"headline", "question"})      # pasted text: plain words, no syntax

QuerySpec = dict  # {"kind", "query"[, "since", "until"]} as in queries.jsonl
SearchFn = Callable[[QuerySpec, int], list[dict]]
OpenSearch = Callable[[Path], AbstractContextManager[SearchFn]]


def load_queries(path: Path = QUERIES_FILE, per_kind: int | None = None) -> list[QuerySpec]:
    """The query mix, optionally only the first per_kind queries of each kind."""
    with open(path, encoding="utf-8") as fh:
        specs = [json.loads(line) for line in fh if line.strip()]
    if per_kind is None:
        return specs
    return [s for kind in KINDS for s in [q for q in specs if q["kind"] == kind][:per_kind]]


def read_jsonl(path: Path) -> Iterator[dict]:
    """Records of a JSON-lines file, streamed."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def dir_size(path: Path) -> int:
    """Total bytes of the files under path."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean (nearest-rank style, via statistics.quantiles) of samples in ms."""
    if not samples:
        return {}
    if len(samples) == 1:
        cuts = samples * 99
    else:
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"n": len(samples), "mean": statistics.fmean(samples),
            "p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


def measure_latency(search: SearchFn, specs: list[QuerySpec], repeats: int = 3,
                    limit: int = 10) -> dict:
    """Warm latency: one untimed pass (also counting hits), then `repeats` timed passes.
    Each timing covers parsing, searching and materialising the top `limit` with snippets."""
    returned = {kind: [] for kind in KINDS}
    for spec in specs:
        returned[spec["kind"]].append(len(search(spec, limit)))
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(repeats):
        for spec in specs:
            t0 = time.perf_counter()
            search(spec, limit)
            samples[spec["kind"]].append((time.perf_counter() - t0) * 1000)
    stats = {kind: percentiles(s) for kind, s in samples.items() if s}
    stats["all"] = percentiles([x for s in samples.values() for x in s])
    zero = {kind: sum(n == 0 for n in ns) for kind, ns in returned.items() if ns}
    return {"latency_ms": stats, "queries": len(specs), "repeats": repeats,
            "zero_hit_queries": zero}


def peak_rss_bytes() -> dict[str, int]:
    """Peak RSS of this process and of its largest waited-for child (Linux: ru_maxrss in KiB)."""
    return {"self_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "children_peak_rss_bytes":
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}


@dataclass
class ChildResult:
    """Outcome of one measured child process."""
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_bytes: int

    def json(self) -> dict:
        """The last stdout line, parsed (adapters print one JSON object last)."""
        lines = self.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}

    def check(self, what: str, ok: tuple[int, ...] = (0,)) -> "ChildResult":
        """Raise with the child's stderr tail if it failed (exit code not in ok)."""
        if self.returncode not in ok:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{what} failed (exit {self.returncode}):\n{tail}")
        return self


def run_child(argv: list[str], env: dict[str, str] | None = None) -> ChildResult:
    """Run argv to completion; wall time and peak RSS: the larger of the child's own peak
    (os.wait4) and the sampled sum over the child and the processes it started (an indexer
    with worker processes holds their memory at the same time; pages the processes share
    count once per process, so the sum errs high)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    tree_peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(RSS_SAMPLE_S):
            tree_peak[0] = max(tree_peak[0], tree_rss_bytes(proc.pid))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = _read_all(proc)
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildResult(proc.returncode, out, err, wall, max(usage.ru_maxrss * 1024, tree_peak[0]))


RSS_SAMPLE_S = 0.1


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants now (Linux /proc; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
        except OSError:
            pass
        todo.extend(children.get(p, ()))
    return total


def _read_all(proc: subprocess.Popen) -> tuple[str, str]:
    """Drain stdout and stderr without deadlocking (stderr in a thread)."""
    err_chunks: list[str] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))
    reader.start()
    out = proc.stdout.read()
    reader.join()
    proc.stdout.close()
    proc.stderr.close()
    return out, "".join(err_chunks)


def run_batch(search: SearchFn, path: Path, limit: int = 10) -> None:
    """Every query of a file (one a line, as `searchnews query --batch` reads it, taken like a
    `title` query) over one open index: one JSON line per hit on stdout, tagged with the
    query's line number as `query_id`."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            hits = search({"kind": "title", "query": line.strip()}, limit)
            for rank, hit in enumerate(hits, 1):
                print(json.dumps({"query_id": lineno, "rank": rank, **hit}, ensure_ascii=False))


def adapter_main(name: str, build: Callable[[Path, Path], dict], open_search: OpenSearch,
                 reindex: Callable[[Path, Path], dict] | None = None) -> int:
    """Child CLI shared by the engine adapters; prints one JSON object on stdout.

    build CORPUS INDEX | reindex CORPUS INDEX | latency INDEX [--per-kind N] [--repeats R]
    | query INDEX TEXT [--since D --until D] | batch INDEX FILE (hits as JSON lines, see
    run_batch; nothing else)
    """
    ap = argparse.ArgumentParser(prog=name)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd in ("build", "reindex"):
        p = sub.add_parser(cmd)
        p.add_argument("corpus", type=Path)
        p.add_argument("index", type=Path)
    p = sub.add_parser("latency")
    p.add_argument("index", type=Path)
    p.add_argument("--queries", type=Path, default=QUERIES_FILE)
    p.add_argument("--per-kind", type=int)
    p.add_argument("--repeats", type=int, default=3)
    p = sub.add_parser("query")
    p.add_argument("index", type=Path)
    p.add_argument("text")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("--limit", type=int, default=10)
    p = sub.add_parser("batch")
    p.add_argument("index", type=Path)
    p.add_argument("file", type=Path)
    p.add_argument("--limit", type=int, default=10)
    args = ap.parse_args()

    if args.cmd == "batch":
        with open_search(args.index) as search:
            run_batch(search, args.file, args.limit)
        return 0
    if args.cmd == "build":
        out = build(args.corpus, args.index)
    elif args.cmd == "reindex":
        if reindex is None:
            ap.error(f"{name} has no incremental re-index")
        out = reindex(args.corpus, args.index)
    elif args.cmd == "latency":
        with open_search(args.index) as search:
            out = measure_latency(search, load_queries(args.queries, args.per_kind),
                                  args.repeats)
    else:
        spec = {"kind": "date" if args.since or args.until else "cli", "query": args.text,
                "since": args.since, "until": args.until}
        with open_search(args.index) as search:
            out = {"hits": search(spec, args.limit)}
    out.update(peak_rss_bytes())
    print(json.dumps(out, ensure_ascii=False))
    return 0
