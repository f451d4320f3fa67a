"""``searchnews query --batch``: many queries, answered in order, spread over processes when
the batch is long, each answered as ``searchnews query --json`` answers it alone."""

from __future__ import annotations

import json
import os

import searchnews.batch as batch_module

from .conftest import DATA


def _titles(n: int) -> list[str]:
    lines = (DATA / "fakenews_es_sample.jsonl").read_text(encoding="utf-8").splitlines()
    titles = list(dict.fromkeys(json.loads(x)["title"] for x in lines))
    return [" ".join(t.split()[:3]) for t in (titles * 4)][:n]


def _run_batch(run, index, queries: list[str], tmp_path):
    path = tmp_path / "queries.txt"
    path.write_text("\n".join(queries) + "\n", encoding="utf-8")
    return run("query", "--batch", path, "--index", index.path)


def test_a_long_batch_answers_each_query_as_alone_and_in_order(run, sample_index, tmp_path,
                                                               monkeypatch):
    monkeypatch.setattr(batch_module, "WORKERS", 2)
    queries = _titles(batch_module.PARALLEL_FROM + 21)
    queries[7] = '"unbalanced'
    result = _run_batch(run, sample_index, queries, tmp_path)
    assert result.exit_code == 2                  # one query failed, the rest ran
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["query_id"] for r in rows] == sorted(r["query_id"] for r in rows)
    failed = {r["query_id"] for r in rows if "error" in r}
    expected = []
    for n, q in enumerate(queries, 1):
        alone = run("query", q, "--json", "--index", sample_index.path)
        if alone.exit_code == 2:
            assert n in failed, q
            continue
        expected += [{"query_id": n, **json.loads(x)} for x in alone.stdout.splitlines()
                     if not x.startswith('{"did_you_mean"')]
    assert 8 in failed
    got = [r for r in rows if "error" not in r and "did_you_mean" not in r]
    assert len(got) > 400 and got == expected


def test_worker_processes_change_nothing_but_the_time(run, sample_index, tmp_path,
                                                      monkeypatch):
    queries = _titles(batch_module.PARALLEL_FROM + 5)
    monkeypatch.setattr(batch_module, "WORKERS", 2)
    spread = _run_batch(run, sample_index, queries, tmp_path)
    monkeypatch.setattr(batch_module, "WORKERS", 1)
    alone = _run_batch(run, sample_index, queries, tmp_path)
    assert spread.exit_code == alone.exit_code
    assert spread.stdout == alone.stdout and spread.stdout.count("\n") > 300


def _pid(qid, hits) -> tuple:
    return qid, os.getpid(), len(hits)


def test_a_long_batch_is_spread_over_processes_a_short_one_is_not(sample_index, monkeypatch):
    monkeypatch.setattr(batch_module, "WORKERS", 2)
    queries = [(n, q) for n, q in enumerate(_titles(batch_module.PARALLEL_FROM * 2))]
    long = list(batch_module.run(sample_index, queries, {"syntax": False}, _pid))
    short = list(batch_module.run(sample_index, queries[:10], {"syntax": False}, _pid))
    assert [qid for qid, _, _ in long] == [qid for qid, _ in queries]
    assert os.getpid() not in {pid for _, pid, _ in long}
    assert len({pid for _, pid, _ in long}) == 2
    assert {pid for _, pid, _ in short} == {os.getpid()}
    assert [n for _, _, n in long[:10]] == [n for _, _, n in short]
