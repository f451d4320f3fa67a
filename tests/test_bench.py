"""The benchmark must not rot: its --quick smoke run works end to end on both engines, and its
committed query files are what bench/make_queries.py derives from the real corpora."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from .conftest import ROOT, SHARED, needs_corpora

BENCH = ROOT / "bench"
KINDS = ("one", "multi", "phrase", "date", "title", "headline", "question")
SQUAD = SHARED / "eval" / "squad-es" / "queries.jsonl"
needs_squad = pytest.mark.skipif(not SQUAD.exists(), reason=f"squad-es not found at {SQUAD}")


def read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@needs_corpora
@needs_squad
def test_quick_benchmark_runs_both_engines(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick",
         "--results-dir", str(tmp_path / "results"), "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    (out,) = (tmp_path / "results").glob("*.json")
    data = json.loads(out.read_text())
    for engine in ("baseline", "searchnews"):
        side = data[engine]
        assert side["index"] and side["search"] and side["cold_query_ms"]
        assert set(side["search"]["latency_ms"]) == {*KINDS, "all"}
        batch = side["batch"]
        assert "error" not in batch and batch["queries"] == 20
        assert 0 < batch["wall_s"]["min"] <= batch["wall_s"]["median"]
        assert batch["output_lines"] > 0     # top-10 hits of 20 title queries, as JSON lines
    assert data["searchnews"]["reindex_report"]["unchanged"] > 0
    assert data["searchnews"]["reindex_report"]["added"] == 0
    table = (tmp_path / "results" / out.with_suffix(".md").name).read_text()
    assert table.count("|") > 20
    for label in ("batch, one process: min", "| headline |", "| question |", "| title |"):
        assert label in table


@needs_corpora
@needs_squad
def test_committed_queries_are_what_make_queries_derives(tmp_path):
    mix, batch = tmp_path / "queries.jsonl", tmp_path / "title_queries.txt"
    result = subprocess.run(
        [sys.executable, str(BENCH / "make_queries.py"), "--out", str(mix),
         "--batch-out", str(batch)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert mix.read_bytes() == (BENCH / "queries.jsonl").read_bytes()
    assert batch.read_bytes() == (BENCH / "title_queries.txt").read_bytes()


def in_one_title(words: list[str], titles: list[str]) -> bool:
    """The words occur as whole runs of letters ("AMLO2018" holds "amlo"), in this order, in
    one title (lowercased)."""
    letter, not_letter = r"[^\W\d_]", r"(?<![^\W\d_])"
    pattern = re.compile(not_letter + f".*{not_letter}".join(
        re.escape(w) + f"(?!{letter})" for w in words))
    return any(pattern.search(t) for t in titles)


@needs_corpora
@needs_squad
def test_new_query_kinds_are_real_titles_headlines_and_questions():
    fakenews = SHARED / "corpora" / "fakenews_es"
    titles = [r["title"].lower() for r in read_jsonl(fakenews / "articles.jsonl") if r["title"]]
    headlines = {" ".join(r["query"].replace("*NUMBER*", " ").split())
                 for r in read_jsonl(fakenews / "queries_headline.jsonl")}
    questions = {r["query"] for r in read_jsonl(SQUAD)}
    specs = read_jsonl(BENCH / "queries.jsonl")
    by_kind = {k: [s["query"] for s in specs if s["kind"] == k] for k in KINDS}
    assert all(len(qs) == 25 == len(set(qs)) for qs in by_kind.values())
    for q in by_kind["title"]:
        words = q.split()
        assert 2 <= len(words) <= 3 and in_one_title(words, titles), q
    assert set(by_kind["headline"]) <= headlines
    assert set(by_kind["question"]) <= questions
    batch = (BENCH / "title_queries.txt").read_text(encoding="utf-8").splitlines()
    assert len(batch) == 1000 == len(set(batch))
    for q in batch:
        words = q.split()
        assert 1 <= len(words) <= 3 and all(w.isalpha() for w in words), q
        assert in_one_title(words, titles), q
