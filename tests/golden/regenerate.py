"""Rewrite the golden files that pin today's rankings, and report the engines' agreement.

The pins (tests/test_pins.py) hold each engine's top 10 for every query in queries.json, in
three modes, and an ``eval --json`` snapshot, so that code moved around (issue #12: engines
in subpackages, one pipeline for both) provably ranks exactly as before. A pin is only worth
something if it is not rewritten to make a failure go away: run this script ONLY when a
ranking change is intended and has been measured (``searchnews eval`` on the lab's sets),
and commit the new files with that measurement in the message.

From the project root, with a Sphinx cluster (``.ci/sphinx-cluster start DIR``)::

    SEARCHNEWS_TEST_SPHINX=$(cat DIR/engine-url) python -m tests.golden.regenerate
    python -m tests.golden.regenerate --agreement      # only report, from the files

It rebuilds the sample (seeds/ plus tests/data/news/, as the tests index it) in a temporary
Whoosh index and, rebuilt, in the cluster; it rewrites whoosh.json, sphinx.json and eval.json.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Union

if not __package__:                       # run as a file: make ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from click.testing import CliRunner  # noqa: E402

from searchnews import Index  # noqa: E402
from searchnews.cli import main  # noqa: E402
from searchnews.errors import QueryError  # noqa: E402

GOLDEN = Path(__file__).resolve().parent
ROOT = GOLDEN.parent.parent
SOURCES = [ROOT / "seeds", ROOT / "tests" / "data" / "news"]   # what sample_index indexes
QUERIES = GOLDEN / "queries.json"
ENGINES = ("whoosh", "sphinx")
# mode -> the search options it adds to a query's own
MODES: dict[str, dict[str, Any]] = {"grouped": {}, "paragraphs": {"group": False},
                                    "date": {"sort": "date"}}
# eval on the sample: the fakenews headlines find their articles in a body-only index, among
# the AnCora articles and the seed as distractors (paths relative to the project root)
EVAL_ARGS = ["eval", "--docs", "tests/data/news/fakenews_es_sample.jsonl",
             "--headlines", "tests/golden/headlines.jsonl",
             "--distractors", "tests/data/news/ancora_ud_sample.jsonl",
             "--distractors", "seeds/000_aa4e37ec6fc49a3b.txt", "--json"]

# a top 10: [article_id, paragraph, score to 4 places or None] per hit, or {"error": message}
Result = Union[list[list], dict[str, str]]
Pinned = dict        # {"query", "options", "grouped", "paragraphs", "date"}


def load_queries() -> list[dict]:
    """The query specs: ``query`` and the search options it is pinned with."""
    return json.loads(QUERIES.read_text(encoding="utf-8"))


def top10(ix: Any, spec: dict, mode: str) -> Result:
    """One query's top 10 in one mode, as pinned: a list of hits, or ``{"error": ...}``
    when the engine refuses the query (a refusal is behaviour worth pinning too)."""
    options = {k: v for k, v in spec.items() if k != "query"}
    try:
        hits = ix.search(spec["query"], limit=10, **options, **MODES[mode])
    except QueryError as exc:
        return {"error": str(exc)}
    return [[h.article_id, h.paragraph, None if h.score is None else round(float(h.score), 4)]
            for h in hits]


def pin(ix: Any, spec: dict) -> Pinned:
    """A query's golden entry: its spec and its top 10 in every mode."""
    return {"query": spec["query"], "options": {k: v for k, v in spec.items() if k != "query"},
            **{mode: top10(ix, spec, mode) for mode in MODES}}


def run_eval() -> dict:
    """``searchnews eval --json`` on the sample, run in the project root, without the one
    figure that is no result (``elapsed``, seconds)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, EVAL_ARGS, catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    del out["elapsed"]
    return out


def _paragraphs(result: Result) -> list[tuple[str, int]] | dict:
    return result if isinstance(result, dict) else [(h[0], h[1]) for h in result]


def agreement(a: list[Pinned], b: list[Pinned]) -> dict[str, tuple[int, int, int]]:
    """Per mode (and in all), on how many queries two engines' top 10 are the same
    paragraphs in the same order, and the same set of paragraphs, out of how many
    (scores not compared: the engines' scales differ; an error equals the same error)."""
    out: dict[str, tuple[int, int, int]] = {}
    for mode in [*MODES, "all"]:
        pairs = [(_paragraphs(x[m]), _paragraphs(y[m])) for x, y in zip(a, b)
                 for m in (MODES if mode == "all" else [mode])]
        same_order = sum(p == q for p, q in pairs)
        same_set = sum(p == q or isinstance(p, list) and isinstance(q, list) and
                       set(p) == set(q) for p, q in pairs)
        out[mode] = (same_order, same_set, len(pairs))
    return out


def report(a: list[Pinned], b: list[Pinned]) -> str:
    """The agreement as lines to print."""
    return "\n".join(f"{mode:>10}: identical top-10 order {o}/{n}, identical sets {s}/{n}"
                     for mode, (o, s, n) in agreement(a, b).items())


def dump(entries: Iterable[Pinned], path: Path) -> None:
    """Write the entries one hit a line, so that a diff names the hits that moved."""
    blocks = []
    for e in entries:
        lines = [f'  {{"query": {json.dumps(e["query"], ensure_ascii=False)}, '
                 f'"options": {json.dumps(e["options"], ensure_ascii=False)}']
        for mode in MODES:
            r = e[mode]
            body = json.dumps(r, ensure_ascii=False) if isinstance(r, dict) or not r else \
                "[\n" + ",\n".join(f"    {json.dumps(h, ensure_ascii=False)}" for h in r) + "]"
            lines.append(f'   "{mode}": {body}')
        blocks.append(",\n".join(lines) + "}")
    path.write_text("[\n" + ",\n".join(blocks) + "\n]\n", encoding="utf-8")


def load(engine: str) -> list[Pinned]:
    return json.loads((GOLDEN / f"{engine}.json").read_text(encoding="utf-8"))


def regenerate() -> None:
    """Rewrite whoosh.json, sphinx.json and eval.json from the engines as they rank today."""
    from searchnews.engines.sphinx import SphinxEngine
    url = os.environ.get("SEARCHNEWS_TEST_SPHINX")
    if not url:
        sys.exit("regenerate: set SEARCHNEWS_TEST_SPHINX to a cluster's engine URL "
                 "(.ci/sphinx-cluster start DIR; cat DIR/engine-url)")
    queries = load_queries()
    with tempfile.TemporaryDirectory(prefix="searchnews-golden-") as tmp:
        ix = Index(Path(tmp) / "index")
        assert not ix.add_paths(SOURCES).failed
        dump([pin(ix, q) for q in queries], GOLDEN / "whoosh.json")
        ix.close()
    sphinx = SphinxEngine(url)
    assert not sphinx.add_paths(SOURCES, rebuild=True).failed
    dump([pin(sphinx, q) for q in queries], GOLDEN / "sphinx.json")
    sphinx.close()
    (GOLDEN / "eval.json").write_text(json.dumps(run_eval(), indent=1) + "\n",
                                      encoding="utf-8")


if __name__ == "__main__":
    if "--agreement" not in sys.argv[1:]:
        regenerate()
    print(report(load("whoosh"), load("sphinx")))
