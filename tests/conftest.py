"""Shared fixtures: real text only (the seed, the test sample, the shared corpora when present)."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchnews.engines.whoosh.commits import WriteSettings
from searchnews import Index
from searchnews.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "news"
SHARED = ROOT.parent / "shared"
FAKENEWS = SHARED / "corpora" / "fakenews_es" / "paragraphs.jsonl"
ANCORA = SHARED / "corpora" / "ancora_ud" / "paragraphs.jsonl"

needs_corpora = pytest.mark.skipif(
    not FAKENEWS.exists(), reason=f"shared corpora not found at {FAKENEWS.parent.parent} "
                                  "(corpus-sized tests need ../shared beside the project)")


def corpus_files() -> list[Path]:
    """The shared corpora when present, else the sample kept in tests/data."""
    if FAKENEWS.exists():
        return [FAKENEWS, ANCORA]
    return sorted(DATA.glob("*.jsonl"))


def vocabulary(min_count: int = 2) -> list[str]:
    """Lowercase words of real Spanish news, seen at least ``min_count`` times."""
    counts: Counter[str] = Counter()
    for path in corpus_files():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                counts.update(re.findall(r"[^\W\d_]+", json.loads(line)["text"].lower()))
    return sorted(w for w, c in counts.items() if c >= min_count and len(w) >= 2)


def rewrite_feed(lines: list[str], changed: str, dropped: str, text: str) -> str:
    """A corpus-schema JSONL feed edited as news arrives: article ``dropped`` is gone and the
    first paragraph of ``changed`` now reads ``text``."""
    out = []
    for line in lines:
        rec = json.loads(line)
        if rec["article_id"] == dropped:
            continue
        if rec["article_id"] == changed and rec["paragraph"] == 0:
            rec["text"] = text
        out.append(json.dumps(rec, ensure_ascii=False) + "\n")
    return "".join(out)


def updated_index(path: Path, also: list[Path] = (), positions: bool = False
                  ) -> tuple[Index, list[Path]]:
    """The seed, the sample's feed (and ``also``) indexed by two worker processes, then the
    feed updated as news arrives (an article changed, one removed): several segments, one
    with deleted paragraphs. ``positions``: Whoosh's postings keep positions too. Returns the index
    and the paths it mirrors."""
    sample = DATA / "fakenews_es_sample.jsonl"
    lines = sample.read_text(encoding="utf-8").splitlines(keepends=True)
    ids = list(dict.fromkeys(json.loads(x)["article_id"] for x in lines))
    feed = path / "news" / "feed.jsonl"
    feed.parent.mkdir(parents=True)
    feed.write_text("".join(lines), encoding="utf-8")
    paths = [SEEDS, feed.parent, *also]
    Index(path / "ix", WriteSettings(workers=2, parallel_after=100, positions=positions)
          ).add_paths(paths)
    ix = Index(path / "ix", WriteSettings(positions=positions))
    feed.write_text(rewrite_feed(lines, ids[3], ids[5], "El gobierno de México anunció hoy "
                                 "un nuevo plan de vacunación en todo el país."), encoding="utf-8")
    ix.add_paths(paths)
    return ix, paths


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Index:
    ix = Index(tmp_path_factory.mktemp("seed") / "index")
    report = ix.add_paths([SEEDS])
    assert not report.failed
    return ix


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> Index:
    ix = Index(tmp_path_factory.mktemp("sample") / "index")
    report = ix.add_paths([SEEDS, DATA])
    assert not report.failed
    return ix


@pytest.fixture(scope="session")
def fakenews_index(tmp_path_factory) -> Index:
    if not FAKENEWS.exists():
        pytest.skip(f"shared corpora not found at {FAKENEWS.parent}")
    ix = Index(tmp_path_factory.mktemp("fakenews") / "index")
    report = ix.add_paths([FAKENEWS])
    assert not report.failed
    return ix


@pytest.fixture
def run():
    """Run the CLI in-process; returns click's Result (stdout, stderr, exit_code apart)."""
    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)
    return invoke


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A working folder with the project's seeds/ and no index, as after a fresh install."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEARCHNEWS_INDEX", raising=False)
    return tmp_path
