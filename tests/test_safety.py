"""Real processes: kill -9 mid-index, queries during a reindex, two indexers at once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


from searchnews import Index

from .conftest import FAKENEWS, needs_corpora

pytestmark = needs_corpora


def _indexer(index_dir, *args: str, commit_every: int = 1500) -> subprocess.Popen:
    env = dict(os.environ, SEARCHNEWS_COMMIT_EVERY=str(commit_every))
    return subprocess.Popen([sys.executable, "-m", "searchnews", "index", str(FAKENEWS),
                             "--index", str(index_dir), "-q", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def _corpus() -> tuple[list[str], Counter]:
    order, sizes = [], Counter()
    with open(FAKENEWS, encoding="utf-8") as fh:
        for line in fh:
            aid = json.loads(line)["article_id"]
            if aid not in sizes:
                order.append(aid)
            sizes[aid] += 1
    return order, sizes


def _indexed_articles(ix: Index) -> Counter:
    with ix.searcher() as s:
        return Counter(d["article_id"] for d in s.all_stored_fields())


def _assert_committed_state(ix: Index, order: list[str], sizes: Counter) -> int:
    """The index opens, holds whole articles only, forming a prefix of the file: a commit."""
    if not ix.exists:
        return 0                                   # killed before the first commit: empty
    got = _indexed_articles(ix)
    assert set(got) == set(order[: len(got)]), "not a prefix of the file: not a committed state"
    assert all(got[a] == sizes[a] for a in got), "an article is half indexed"
    if got:
        assert ix.search("gobierno", limit=1)
    ix.close()
    return len(got)


def _processes_indexing(index_dir) -> list[int]:
    """Processes whose command line names this index: the indexer and its workers (forks)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(index_dir).encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            pass
    return found


def _gone(index_dir, within: float) -> bool:
    deadline = time.monotonic() + within
    while _processes_indexing(index_dir):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_kill_9_at_random_moments_leaves_a_committed_state(tmp_path):
    order, sizes = _corpus()
    rng = random.Random(20251113)
    ix_dir = tmp_path / "ix"
    counts = []
    for delay in sorted(rng.uniform(0.5, 4.0) for _ in range(5)):
        proc = _indexer(ix_dir)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _gone(ix_dir, within=10), "worker processes outlived the killed indexer"
        counts.append(_assert_committed_state(Index(ix_dir), order, sizes))
    print("articles committed after each kill:", counts)
    assert counts == sorted(counts), "a rerun lost what an earlier run committed"
    assert counts[-1] > 0, "no kill landed after a commit: make the corpus or delays larger"
    finish = _indexer(ix_dir)
    assert finish.wait(timeout=300) == 0, finish.stderr.read()
    ix = Index(ix_dir)
    assert _indexed_articles(ix) == sizes            # the job is finished, nothing twice
    assert ix.stats()["paragraphs"] == sum(sizes.values())


def test_ctrl_c_stops_indexer_and_workers_at_once(tmp_path):
    order, sizes = _corpus()
    ix_dir = tmp_path / "ix"
    proc = subprocess.Popen([sys.executable, "-m", "searchnews", "index", str(FAKENEWS),
                             "--index", str(ix_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, SEARCHNEWS_COMMIT_EVERY="1500",
                                     SEARCHNEWS_WORKERS="2"),
                            start_new_session=True)
    deadline = time.monotonic() + 30    # past the first 5,000 paragraphs, workers start
    while len(_processes_indexing(ix_dir)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_processes_indexing(ix_dir)) == 3, "the workers never started"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole process group
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and err.strip() == "searchnews: interrupted"
    assert _gone(ix_dir, within=2)
    _assert_committed_state(Index(ix_dir), order, sizes)
    finish = _indexer(ix_dir)
    assert finish.wait(timeout=300) == 0, finish.stderr.read()
    assert _indexed_articles(Index(ix_dir)) == sizes


def test_kill_during_rebuild_keeps_the_old_index_answering(tmp_path):
    order, sizes = _corpus()
    ix_dir = tmp_path / "ix"
    assert _indexer(ix_dir).wait(timeout=300) == 0
    before = Index(ix_dir).search("elecciones", limit=5)
    proc = _indexer(ix_dir, "--rebuild")
    time.sleep(2.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ix = Index(ix_dir)
    assert _indexed_articles(ix) == sizes
    assert [h.to_dict() for h in ix.search("elecciones", limit=5)] == [h.to_dict() for h in before]
    again = _indexer(ix_dir, "--rebuild")
    assert again.wait(timeout=300) == 0
    assert len(list((ix_dir).glob("gen-*"))) == 1     # the crashed generation was cleaned up


def test_queries_during_reindex_see_old_or_new_never_an_error(tmp_path):
    ix_dir = tmp_path / "ix"
    assert _indexer(ix_dir, commit_every=100_000).wait(timeout=300) == 0
    proc = _indexer(ix_dir, "--rebuild", commit_every=2000)
    answered = 0
    while proc.poll() is None:
        result = subprocess.run([sys.executable, "-m", "searchnews", "query", "vacuna",
                                 "--index", str(ix_dir), "--json", "-n", "3"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 3
        answered += 1
    assert proc.returncode == 0 and answered >= 2


def test_second_indexer_waits_then_fails_clearly(tmp_path):
    ix_dir = tmp_path / "ix"
    first = _indexer(ix_dir)
    time.sleep(1.0)
    started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "searchnews", "index", str(FAKENEWS),
                             "--index", str(ix_dir), "--wait", "1"],
                            capture_output=True, text=True, timeout=60)
    waited = time.monotonic() - started
    assert second.returncode == 2
    assert "being written by another 'searchnews index' (waited 1s)" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1 and waited >= 1.0
    assert first.wait(timeout=300) == 0
    order, sizes = _corpus()
    assert _indexed_articles(Index(ix_dir)) == sizes
