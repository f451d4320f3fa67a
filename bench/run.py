#!/usr/bin/env python3
"""Benchmark harness: stock-Whoosh baseline vs searchnews on a real or scaled corpus.

    python bench/run.py --size 15k|10k|100k|1m [--baseline-only] [--seed 42] [--repeats 3]
    python bench/run.py --quick            # ~2k paragraphs, 3 queries per kind: a smoke test

Scales the corpus (cached in bench/data/; 15k is the real fakenews_es/paragraphs.jsonl as is),
then for each engine, each step in its own child process: build the index (paragraphs/s, peak
RSS), index size, warm query latency per kind over bench/queries.jsonl (top 10 with snippets),
cold CLI query wall time, and for searchnews the unchanged re-index time. Then the batch step:
bench/title_queries.txt as one whole process per engine (`searchnews query --batch`,
`baseline.py batch`), the engines alternating. Writes bench/results/<size>.json and .md
(quick: bench/data/quick/).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata, util
from pathlib import Path

from benchlib import (BENCH_DIR, DATA_DIR, FAKENEWS_DIR, KINDS, PROJECT_ROOT, QUERIES_FILE,
                      RESULTS_DIR, TITLE_QUERIES_FILE, ChildResult, dir_size, load_queries,
                      percentiles, run_child)

MIB = 2**20
SCALER = BENCH_DIR / "scale_corpus.py"
COLD_KINDS = ("one", "multi", "phrase")   # cold CLI queries: no date options needed


@dataclass(frozen=True)
class Profile:
    """How big and how thorough one run is."""
    label: str
    paragraphs: int = 0           # scaled to this many (unless corpus is given)
    corpus: Path | None = None    # a real corpus file, used as it is (not scaled)
    per_kind: int | None = None   # queries per kind (None: all of queries.jsonl)
    repeats: int = 3              # timed passes over the mix
    cold_per_kind: int = 2        # cold CLI queries per kind in COLD_KINDS
    batch_queries: int | None = None   # first N lines of title_queries.txt (None: all)
    batch_runs: int = 3           # whole batch processes per engine


PROFILES = {p.label: p for p in (
    Profile("10k", 10_000),
    Profile("15k", corpus=FAKENEWS_DIR / "paragraphs.jsonl"),   # 14,907 real paragraphs
    Profile("100k", 100_000),
    Profile("1m", 1_000_000))}
QUICK = Profile("quick", 2_000, per_kind=3, repeats=1, cold_per_kind=1, batch_queries=20,
                batch_runs=1)


def ensure_corpus(prof: Profile, seed: int) -> tuple[Path, dict]:
    """The corpus for this profile: its real file, or the scaled corpus, generated unless a
    matching one is cached."""
    if prof.corpus is not None:
        if not prof.corpus.is_file():
            sys.exit(f"run: corpus not found: {prof.corpus} "
                     f"(expected ../shared/corpora beside the project)")
        with open(prof.corpus, "rb") as fh:
            n = sum(1 for line in fh if line.strip())
        return prof.corpus, {"paragraphs": n, "seed": None, "real": True,
                             "bytes": prof.corpus.stat().st_size}
    out = DATA_DIR / f"corpus-{prof.label}-s{seed}.jsonl"
    meta_path = out.with_suffix(".meta.json")
    want = {"paragraphs": prof.paragraphs, "seed": seed,
            "scaler_sha256": hashlib.sha256(SCALER.read_bytes()).hexdigest()}
    if out.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if all(meta.get(k) == v for k, v in want.items()):
            return out, {**meta, "cached": True, "bytes": out.stat().st_size}
    child = run_child([sys.executable, str(SCALER), "--paragraphs", str(prof.paragraphs),
                       "--seed", str(seed), "--out", str(out)])
    if child.returncode != 0:   # e.g. ../shared/corpora missing: its one-line message
        sys.exit(child.stderr.strip() or f"scale_corpus failed (exit {child.returncode})")
    meta = {**want, "scale_s": child.wall_s, "scale_peak_rss_mb": child.peak_rss_bytes / MIB}
    meta_path.write_text(json.dumps(meta, indent=1))
    return out, {**meta, "cached": False, "bytes": out.stat().st_size}


@dataclass(frozen=True)
class Engine:
    """One side of the comparison: its adapter (benchlib.adapter_main) and its CLI."""
    name: str
    adapter: Path
    cold_argv: Callable[[str, Path], list[str]]      # (query, index) -> one CLI query
    batch_argv: Callable[[Path, Path], list[str]]    # (queries file, index) -> one process
    incremental: bool = False                        # has `reindex`
    env: dict[str, str] | None = None

    def index_dir(self, workdir: Path) -> Path:
        """Where this engine's index goes."""
        return workdir / f"{self.name}-index"


def measure_engine(engine: Engine, corpus: Path, workdir: Path, prof: Profile) -> dict:
    """Build, size, warm latency, cold CLI queries (and unchanged re-index) for one engine."""
    name, env, index_dir = engine.name, engine.env, engine.index_dir(workdir)

    def child(*args: str | Path) -> ChildResult:
        return run_child([sys.executable, str(engine.adapter), *map(str, args)], env) \
            .check(f"{name} {args[0]}")

    shutil.rmtree(index_dir, ignore_errors=True)
    built = child("build", corpus, index_dir)
    stats = built.json()
    result: dict = {"index": {
        "paragraphs": stats.get("paragraphs"), "elapsed_s": stats.get("elapsed_s"),
        "paragraphs_per_s": stats.get("paragraphs_per_s"), "process_wall_s": built.wall_s,
        "peak_rss_mb": built.peak_rss_bytes / MIB,
        "grandchildren_peak_rss_mb": stats.get("children_peak_rss_bytes", 0) / MIB,
        "size_mb": dir_size(index_dir) / MIB}}
    if engine.incremental:
        again = child("reindex", corpus, index_dir).json()
        result["reindex_unchanged_s"] = again["elapsed_s"]
        result["reindex_report"] = again.get("report")
    per_kind = [] if prof.per_kind is None else ["--per-kind", prof.per_kind]
    warm = child("latency", index_dir, "--repeats", prof.repeats, *per_kind).json()
    result["search"] = {k: warm[k] for k in ("latency_ms", "queries", "repeats",
                                             "zero_hit_queries")}
    result["search"]["peak_rss_mb"] = warm["self_peak_rss_bytes"] / MIB
    cold_specs = [s for s in load_queries(QUERIES_FILE, prof.cold_per_kind)
                  if s["kind"] in COLD_KINDS]
    walls = []
    for spec in cold_specs:
        res = run_child(engine.cold_argv(spec["query"], index_dir), env)
        res.check(f"{name} cold query {spec['query']!r}", ok=(0, 1))  # 1: no match, completed
        walls.append(res.wall_s * 1000)
    result["cold_query_ms"] = percentiles(walls)
    return result


def batch_file(prof: Profile, workdir: Path) -> Path:
    """The batch step's queries: title_queries.txt, or its first prof.batch_queries lines."""
    if prof.batch_queries is None:
        return TITLE_QUERIES_FILE
    lines = TITLE_QUERIES_FILE.read_text(encoding="utf-8").splitlines()[:prof.batch_queries]
    out = workdir / f"title_queries-{len(lines)}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return out


def measure_batch(engines: list[Engine], queries: Path, workdir: Path, runs: int) -> dict:
    """Wall time of one whole process per engine running every query of `queries` (open the
    index once; per query parse, search, top 10 with snippets, JSON lines to a pipe), `runs`
    times with the engines alternating so that load on the shared machine falls on both.
    Exit code 1 (searchnews: some query found nothing) counts as done; a failure is recorded."""
    n = sum(1 for line in queries.read_text(encoding="utf-8").splitlines() if line.strip())
    out: dict[str, dict] = {e.name: {"queries": n, "file": str(queries), "walls_s": []}
                            for e in engines}
    for _ in range(runs):
        for e in engines:
            side = out[e.name]
            if "error" in side:
                continue
            res = run_child(e.batch_argv(queries, e.index_dir(workdir)), e.env)
            try:
                res.check(f"{e.name} batch", ok=(0, 1))
            except RuntimeError as exc:
                print(f"run: {exc}", file=sys.stderr)
                side["error"] = str(exc)
                continue
            side["walls_s"].append(res.wall_s)
            side["output_lines"] = res.stdout.count("\n")
            side["peak_rss_mb"] = max(side.get("peak_rss_mb", 0), res.peak_rss_bytes / MIB)
    for side in out.values():
        if side["walls_s"]:
            side["wall_s"] = {"min": min(side["walls_s"]),
                              "median": statistics.median(side["walls_s"])}
    return out


BASELINE_PY = BENCH_DIR / "baseline.py"
BASELINE = Engine(
    "baseline", BASELINE_PY,
    cold_argv=lambda q, ix: [sys.executable, str(BASELINE_PY), "query", str(ix), q],
    batch_argv=lambda f, ix: [sys.executable, str(BASELINE_PY), "batch", str(ix), str(f)])


def run_baseline(corpus: Path, workdir: Path, prof: Profile) -> dict:
    """Stock Whoosh (bench/baseline.py); its CLI is `baseline.py query` and `batch`."""
    return measure_engine(BASELINE, corpus, workdir, prof)


# ============================== searchnews slot ===============================================
# Everything engine-specific lives in bench/searchnews_adapter.py (public API only:
# Index(path).add_paths([...]), Index.search(q, limit, since, until, syntax)) and in the CLI
# below (`searchnews query`, `searchnews query --batch`).

def searchnews_cli() -> list[str]:
    """argv prefix for the `searchnews` command (console script, else python -m)."""
    script = Path(sys.executable).with_name("searchnews")
    if script.exists():
        return [str(script)]
    found = shutil.which("searchnews")
    return [found] if found else [sys.executable, "-m", "searchnews"]


def searchnews_available() -> str | None:
    """None if the searchnews package can be imported, else why not."""
    if util.find_spec("searchnews") is None and not (PROJECT_ROOT / "searchnews").is_dir():
        return "searchnews package not found"
    return None


def searchnews_engine() -> Engine:
    """The searchnews side: its adapter, the `searchnews` command, the repo on PYTHONPATH."""
    cli = searchnews_cli()
    env = {"PYTHONPATH": os.pathsep.join(
        p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)}
    return Engine(
        "searchnews", BENCH_DIR / "searchnews_adapter.py",
        cold_argv=lambda q, ix: [*cli, "query", q, "--index", str(ix)],
        batch_argv=lambda f, ix: [*cli, "query", "--batch", str(f), "--index", str(ix)],
        incremental=True, env=env)


def run_searchnews(corpus: Path, workdir: Path, prof: Profile) -> dict:
    """searchnews measured like the baseline, plus unchanged re-index; errors are recorded."""
    missing = searchnews_available()
    if missing:
        return {"skipped": missing}
    try:
        return measure_engine(searchnews_engine(), corpus, workdir, prof)
    except RuntimeError as exc:
        print(f"run: searchnews side failed: {exc}", file=sys.stderr)
        return {"error": str(exc)}
# ==============================================================================================


ROWS: list[tuple[str, tuple[str, ...], str]] = [
    ("indexing paragraphs/s", ("index", "paragraphs_per_s"), "{:,.0f}"),
    ("indexing time (s)", ("index", "elapsed_s"), "{:.1f}"),
    ("indexing peak RSS (MiB)", ("index", "peak_rss_mb"), "{:.0f}"),
    ("index size on disk (MiB)", ("index", "size_mb"), "{:.1f}"),
    ("batch, one process: min (s)", ("batch", "wall_s", "min"), "{:.2f}"),
    ("batch, one process: median (s)", ("batch", "wall_s", "median"), "{:.2f}"),
    ("cold CLI query p50 (ms)", ("cold_query_ms", "p50"), "{:.0f}"),
    ("unchanged re-index (s)", ("reindex_unchanged_s",), "{:.2f}"),
]
PCTS = ("p50", "p95", "p99")


def _get(d: dict | None, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d if isinstance(d, (int, float)) else None


def _ratio(b: float | None, s: float | None) -> str:
    return f"{s / b:.2f}" if b and s is not None else "—"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table, first column left-aligned, the others right-aligned."""
    return ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1),
            *("| " + " | ".join(r) + " |" for r in rows)]


def metrics_table(sides: list[tuple[str, dict]]) -> list[str]:
    """Indexing, size, batch, cold query, re-index: one row per metric (ratio if both ran)."""
    rows = []
    for label, path, fmt in ROWS:
        values = [_get(side, path) for _, side in sides]
        if all(v is None for v in values):
            continue
        cells = [fmt.format(v) if v is not None else "—" for v in values]
        rows.append([label, *cells, *([_ratio(*values)] if len(sides) == 2 else [])])
    ratio = ["ratio sn/base"] if len(sides) == 2 else []
    return _table(["metric", *(n for n, _ in sides), *ratio], rows)


def latency_table(sides: list[tuple[str, dict]], repeats: int) -> list[str]:
    """Warm latency, one row per query kind: p50 / p95 / p99 of each side, and their ratios."""
    rows = []
    for kind in (*KINDS, "all"):
        values = [[_get(side, ("search", "latency_ms", kind, p)) for p in PCTS]
                  for _, side in sides]
        if all(v is None for vs in values for v in vs):
            continue
        n = next(_get(side, ("search", "latency_ms", kind, "n")) for _, side in sides)
        cells = [" / ".join(f"{v:.1f}" if v is not None else "—" for v in vs) for vs in values]
        if len(sides) == 2:
            cells.append(" / ".join(_ratio(b, s) for b, s in zip(*values)))
        rows.append([kind, f"{(n or 0) // repeats}", *cells])
    ratio = ["ratio sn/base"] if len(sides) == 2 else []
    return _table(["warm ms, p50 / p95 / p99", "queries", *(n for n, _ in sides), *ratio],
                  rows)


def markdown(res: dict) -> str:
    """Results: metrics table and per-kind latency table, with searchnews/baseline ratios when
    both sides ran."""
    base, sn = res["baseline"], res["searchnews"]
    sides = [(name, side) for name, side in (("baseline", base), ("searchnews", sn))
             if side and "index" in side]
    c = res["corpus"]
    origin = ("the real file, not scaled" if c.get("real") else f"scaled, seed {c['seed']}")
    lines = [f"# Benchmark {res['size']}: {c['paragraphs']:,} paragraphs "
             f"({c['bytes'] / MIB:.0f} MiB, {origin})", "",
             f"{res['env']['when']} · code {res['env'].get('code', '?')} · Python "
             f"{res['env']['python']} · Whoosh "
             f"{res['env']['whoosh']} · {res['env']['cpus']} CPUs · load "
             f"{res['env']['loadavg']} · {res['queries']} queries × {res['repeats']} repeats", "",
             *metrics_table(sides), "", *latency_table(sides, res["repeats"]), ""]
    if sn and "index" not in sn:
        lines.append(f"searchnews: {sn.get('skipped') or sn.get('error') or 'not run'}")
    batches = [(name, side["batch"]) for name, side in sides if "batch" in side]
    if batches:
        b = batches[0][1]
        lines.append(f"Batch: {b['queries']:,} title-word queries ({Path(b['file']).name}) as one "
                     f"process per engine (`searchnews query --batch`, `baseline.py batch`: "
                     f"top 10 with snippets, JSON lines to a pipe), "
                     f"{len(b['walls_s'])} run(s) each, alternating; output lines: "
                     + ", ".join(f"{n} {s.get('output_lines', '—')}" for n, s in batches)
                     + "".join(f"; {n} failed: {s['error']}" for n, s in batches
                               if "error" in s) + ".")
    for name, side in sides:
        lines.append(f"Zero-hit queries ({name}): {side['search']['zero_hit_queries']}")
    if base:
        lines.append("Baseline has no incremental re-index: its equivalent is a full rebuild.")
    return "\n".join(lines) + "\n"


def code_version() -> str:
    """The project's git commit (short), "+dirty" if searchnews/ or bench/ (results aside)
    has local changes; "unknown" outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True,
                              text=True, timeout=30).stdout.strip()
    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "searchnews", "bench", ":!bench/results")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if head and dirty else "")


def environment() -> dict:
    """Where, when and on which code this was measured."""
    return {"when": time.strftime("%Y-%m-%d %H:%M"), "code": code_version(),
            "python": platform.python_version(),
            "whoosh": metadata.version("Whoosh"), "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--size", choices=PROFILES)
    group.add_argument("--quick", action="store_true", help="tiny smoke run (< 1 min)")
    side = ap.add_mutually_exclusive_group()
    side.add_argument("--baseline-only", action="store_true")
    side.add_argument("--searchnews-only", action="store_true",
                      help="skip the baseline (at 1m, where the targets are absolute)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeats", type=int, help="timed passes over the query mix (default 3)")
    ap.add_argument("--results-dir", type=Path, help="default bench/results (quick: data/quick)")
    ap.add_argument("--workdir", type=Path, help="where indexes go (default bench/data/work/)")
    args = ap.parse_args(argv)

    prof = QUICK if args.quick else PROFILES[args.size]
    if args.repeats:
        prof = Profile(**{**asdict(prof), "repeats": args.repeats})
    results_dir = args.results_dir or (DATA_DIR / "quick" if args.quick else RESULTS_DIR)
    workdir = args.workdir or DATA_DIR / "work" / prof.label

    print(f"[{prof.label}] corpus ...", file=sys.stderr)
    corpus, corpus_info = ensure_corpus(prof, args.seed)
    baseline = None
    if not args.searchnews_only:
        print(f"[{prof.label}] baseline ...", file=sys.stderr)
        baseline = run_baseline(corpus, workdir, prof)
    searchnews = None
    if not args.baseline_only:
        print(f"[{prof.label}] searchnews ...", file=sys.stderr)
        searchnews = run_searchnews(corpus, workdir, prof)
    built = [(engine, side) for engine, side in
             ((BASELINE, baseline), (searchnews_engine(), searchnews)) if side and "index" in side]
    if built:
        print(f"[{prof.label}] batch ...", file=sys.stderr)
        batches = measure_batch([e for e, _ in built], batch_file(prof, workdir), workdir,
                                prof.batch_runs)
        for engine, side in built:
            side["batch"] = batches[engine.name]
    res = {"size": prof.label, "corpus": {**corpus_info, "path": str(corpus)},
           "queries": (baseline or searchnews)["search"]["queries"], "repeats": prof.repeats,
           "env": environment(), "baseline": baseline, "searchnews": searchnews}

    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{prof.label}.json").write_text(json.dumps(res, indent=1) + "\n")
    table = markdown(res)
    (results_dir / f"{prof.label}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
