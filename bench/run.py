#!/usr/bin/env python3
"""Benchmark harness: stock-Whoosh baseline vs searchnews on a scaled corpus.

    python bench/run.py --size 10k|100k|1m [--baseline-only] [--seed 42] [--repeats 3]
    python bench/run.py --quick            # ~2k paragraphs, 3 queries per kind: a smoke test

Scales the corpus (cached in bench/data/), then for each engine, each step in its own child
process: build the index (paragraphs/s, peak RSS), index size, warm query latency over
bench/queries.jsonl (top 10 with snippets), cold CLI query wall time, and for searchnews the
unchanged re-index time. Writes bench/results/<size>.json and .md (quick: bench/data/quick/).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata, util
from pathlib import Path

from benchlib import (BENCH_DIR, DATA_DIR, KINDS, PROJECT_ROOT, QUERIES_FILE, RESULTS_DIR,
                      dir_size, load_queries, percentiles, run_child)

MIB = 2**20
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SCALER = BENCH_DIR / "scale_corpus.py"
COLD_KINDS = ("one", "multi", "phrase")   # cold CLI queries: no date options needed


@dataclass(frozen=True)
class Profile:
    """How big and how thorough one run is."""
    label: str
    paragraphs: int
    per_kind: int | None = None   # queries per kind (None: all of queries.jsonl)
    repeats: int = 3              # timed passes over the mix
    cold_per_kind: int = 2        # cold CLI queries per kind in COLD_KINDS


QUICK = Profile("quick", 2_000, per_kind=3, repeats=1, cold_per_kind=1)


def ensure_corpus(prof: Profile, seed: int) -> tuple[Path, dict]:
    """The scaled corpus for this profile, generated unless a matching one is cached."""
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


def measure_engine(adapter: Path, corpus: Path, index_dir: Path, prof: Profile,
                   cold_argv: Callable[[str, Path], list[str]], incremental: bool = False,
                   env: dict[str, str] | None = None) -> dict:
    """Build, size, warm latency, cold CLI queries (and unchanged re-index) for one engine."""
    name = adapter.stem

    def child(*args: str | Path) -> dict:
        argv = [sys.executable, str(adapter), *map(str, args)]
        return run_child(argv, env).check(f"{name} {args[0]}").json()

    shutil.rmtree(index_dir, ignore_errors=True)
    built = run_child([sys.executable, str(adapter), "build", str(corpus), str(index_dir)], env)
    stats = built.check(f"{name} build").json()
    result: dict = {"index": {
        "paragraphs": stats.get("paragraphs"), "elapsed_s": stats.get("elapsed_s"),
        "paragraphs_per_s": stats.get("paragraphs_per_s"), "process_wall_s": built.wall_s,
        "peak_rss_mb": built.peak_rss_bytes / MIB,
        "grandchildren_peak_rss_mb": stats.get("children_peak_rss_bytes", 0) / MIB,
        "size_mb": dir_size(index_dir) / MIB}}
    if incremental:
        again = child("reindex", corpus, index_dir)
        result["reindex_unchanged_s"] = again["elapsed_s"]
        result["reindex_report"] = again.get("report")
    per_kind = [] if prof.per_kind is None else ["--per-kind", prof.per_kind]
    warm = child("latency", index_dir, "--repeats", prof.repeats, *per_kind)
    result["search"] = {k: warm[k] for k in ("latency_ms", "queries", "repeats",
                                             "zero_hit_queries")}
    result["search"]["peak_rss_mb"] = warm["self_peak_rss_bytes"] / MIB
    cold_specs = [s for s in load_queries(QUERIES_FILE, prof.cold_per_kind)
                  if s["kind"] in COLD_KINDS]
    walls = []
    for spec in cold_specs:
        res = run_child(cold_argv(spec["query"], index_dir), env)
        if res.returncode not in (0, 1):   # 1: no match, still a completed query
            res.check(f"{name} cold query {spec['query']!r}")
        walls.append(res.wall_s * 1000)
    result["cold_query_ms"] = percentiles(walls)
    return result


def run_baseline(corpus: Path, workdir: Path, prof: Profile) -> dict:
    """Stock Whoosh (bench/baseline.py); its cold query is `baseline.py query`."""
    adapter = BENCH_DIR / "baseline.py"
    return measure_engine(adapter, corpus, workdir / "baseline-index", prof,
                          lambda q, ix: [sys.executable, str(adapter), "query", str(ix), q])


# ============================== searchnews slot ===============================================
# Everything engine-specific lives in bench/searchnews_adapter.py (public API only:
# Index(path).add_paths([...]), Index.search(q, limit, since, until)) and in the CLI below.

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


def run_searchnews(corpus: Path, workdir: Path, prof: Profile) -> dict:
    """searchnews measured like the baseline, plus unchanged re-index; errors are recorded."""
    missing = searchnews_available()
    if missing:
        return {"skipped": missing}
    env = {"PYTHONPATH": os.pathsep.join(
        p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)}
    try:
        return measure_engine(
            BENCH_DIR / "searchnews_adapter.py", corpus, workdir / "searchnews-index", prof,
            lambda q, ix: [*searchnews_cli(), "query", q, "--index", str(ix)],
            incremental=True, env=env)
    except RuntimeError as exc:
        print(f"run: searchnews side failed: {exc}", file=sys.stderr)
        return {"error": str(exc)}
# ==============================================================================================


ROWS: list[tuple[str, tuple[str, ...], str]] = [
    ("indexing paragraphs/s", ("index", "paragraphs_per_s"), "{:,.0f}"),
    ("indexing time (s)", ("index", "elapsed_s"), "{:.1f}"),
    ("indexing peak RSS (MiB)", ("index", "peak_rss_mb"), "{:.0f}"),
    ("index size on disk (MiB)", ("index", "size_mb"), "{:.1f}"),
    *[(f"warm {kind} {p} (ms)", ("search", "latency_ms", kind, p), "{:.1f}")
      for kind in (*KINDS, "all") for p in ("p50", "p95", "p99")],
    ("cold CLI query p50 (ms)", ("cold_query_ms", "p50"), "{:.0f}"),
    ("unchanged re-index (s)", ("reindex_unchanged_s",), "{:.2f}"),
]


def _get(d: dict | None, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d if isinstance(d, (int, float)) else None


def markdown(res: dict) -> str:
    """Results table; a searchnews/baseline ratio column when both sides ran."""
    base, sn = res["baseline"], res["searchnews"]
    sides = [(name, side) for name, side in (("baseline", base), ("searchnews", sn))
             if side and "index" in side]
    both = len(sides) == 2
    c = res["corpus"]
    lines = [f"# Benchmark {res['size']}: {c['paragraphs']:,} paragraphs "
             f"({c['bytes'] / MIB:.0f} MiB, seed {c['seed']})", "",
             f"{res['env']['when']} · Python {res['env']['python']} · Whoosh "
             f"{res['env']['whoosh']} · {res['env']['cpus']} CPUs · load "
             f"{res['env']['loadavg']} · {res['queries']} queries × {res['repeats']} repeats", "",
             "| metric | " + " | ".join(n for n, _ in sides) + (" | ratio sn/base |" if both
                                                                  else " |"),
             "|---|" + "---:|" * (len(sides) + both)]
    for label, path, fmt in ROWS:
        values = [_get(side, path) for _, side in sides]
        if all(v is None for v in values):
            continue
        cells = [fmt.format(v) if v is not None else "—" for v in values]
        if both:
            b, s = values
            cells.append(f"{s / b:.2f}" if b and s is not None else "—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if sn and "index" not in sn:
        lines += ["", f"searchnews: {sn.get('skipped') or sn.get('error') or 'not run'}"]
    for name, side in sides:
        lines.append(f"Zero-hit queries ({name}): {side['search']['zero_hit_queries']}")
    if base:
        lines.append("Baseline has no incremental re-index: its equivalent is a full rebuild.")
    return "\n".join(lines) + "\n"


def environment() -> dict:
    """Where and when this was measured."""
    return {"when": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
            "whoosh": metadata.version("Whoosh"), "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--size", choices=SIZES)
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

    prof = QUICK if args.quick else Profile(args.size, SIZES[args.size])
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
