"""The benchmark must not rot: its --quick smoke run works end to end on both engines."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT, needs_corpora


@needs_corpora
def test_quick_benchmark_runs_both_engines(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick",
         "--results-dir", str(tmp_path / "results"), "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    (out,) = (tmp_path / "results").glob("*.json")
    data = json.loads(out.read_text())
    for engine in ("baseline", "searchnews"):
        assert data[engine]["index"] and data[engine]["search"] and data[engine]["cold_query_ms"]
    assert data["searchnews"]["reindex_report"]["unchanged"] > 0
    assert data["searchnews"]["reindex_report"]["added"] == 0
    assert (tmp_path / "results" / out.with_suffix(".md").name).read_text().count("|") > 20
