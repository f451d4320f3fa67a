"""Pins: each engine ranks the sample exactly as the golden files say (tests/golden/).

Issue #12 moves the engines' code around; these tests say that nothing it moved changed a
ranking: for every query of queries.json, grouped, by paragraph and newest first, the top 10
(order, article, paragraph, score to 4 places) of the embedded engine and of a Sphinx cluster,
each against its own file (the two rank differently today), and ``searchnews eval --json``
on the sample to every digit it prints. A failure is a ranking change: fix the code, or, if
the change is intended and measured, rewrite the files (tests/golden/regenerate.py).

Sphinx is skipped or, under ``$CI``, fails as in tests/test_engines.py (same fixtures).
"""

from __future__ import annotations

import json

import pytest

from .golden.regenerate import ENGINES, GOLDEN, MODES, load, load_queries, pin, run_eval
from .test_engines import clusters, sphinx_sample, sphinx_url  # noqa: F401 - its fixtures

QUERIES = load_queries()
IDS = [f"{i:03d}-{q['query']}" for i, q in enumerate(QUERIES)]


@pytest.fixture(scope="module")
def golden() -> dict[str, list[dict]]:
    return {engine: load(engine) for engine in ENGINES}


def test_golden_files_pin_every_query_in_every_mode(golden):
    """A query added to queries.json without regenerating is no pin: say so."""
    for entries in golden.values():
        assert [{"query": e["query"], **e["options"]} for e in entries] == QUERIES
        assert all(set(e) == {"query", "options", *MODES} for e in entries)


@pytest.mark.parametrize("n", range(len(QUERIES)), ids=IDS)
def test_whoosh_top10(sample_index, golden, n):
    assert pin(sample_index, QUERIES[n]) == golden["whoosh"][n]


@pytest.mark.parametrize("n", range(len(QUERIES)), ids=IDS)
def test_sphinx_top10(sphinx_sample, golden, n):
    assert pin(sphinx_sample, QUERIES[n]) == golden["sphinx"][n]


def test_eval_json_snapshot():
    """MRR, recalls and nDCG to the 4 places eval prints, and the counts and variant."""
    assert run_eval() == json.loads((GOLDEN / "eval.json").read_text(encoding="utf-8"))
