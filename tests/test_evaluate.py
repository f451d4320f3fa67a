"""``searchnews eval``: the metrics on hand-made cases, and end-to-end runs on real text."""

from __future__ import annotations

import json
import math
from itertools import islice

import pytest
from click.testing import CliRunner, Result

from searchnews import Index
from searchnews.evaluate import (EvalQuery, evaluate, eval_cmd, first_ranks, mean_metrics, ndcg,
                                 query_metrics, recall, reciprocal_rank)

from .conftest import DATA, ROOT

SQUAD = ROOT.parent / "shared" / "eval" / "squad-es"
SAMPLE = DATA / "fakenews_es_sample.jsonl"

needs_squad = pytest.mark.skipif(
    not (SQUAD / "docs.jsonl").exists(),
    reason=f"squad-es not found at {SQUAD} (the eval test needs ../shared beside the project)")


# -- metrics on cases worked out by hand -----------------------------------------------------

def test_reciprocal_rank_is_one_over_the_first_relevant_rank():
    assert reciprocal_rank(["a", "b", "c"], {"a"}) == 1.0
    assert reciprocal_rank(["x", "y", "a", "b"], {"a", "b"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x", "y"], {"a"}) == 0.0                       # no hit
    assert reciprocal_rank([], {"a"}) == 0.0
    assert reciprocal_rank([*"xxxxxxxxxx", "a"], {"a"}) == 0.0            # rank 11: beyond @10


def test_recall_counts_distinct_relevant_ids_within_k():
    assert recall(["x", "a", "b"], {"a", "b"}, 1) == 0.0
    assert recall(["x", "a", "b"], {"a", "b"}, 2) == 0.5
    assert recall(["x", "a", "b"], {"a", "b"}, 10) == 1.0
    assert recall(["a", "a", "a"], {"a", "b"}, 10) == 0.5                 # a twice counts once
    assert recall(["x"], set(), 10) == 0.0


def test_ndcg_with_one_two_and_no_relevant_hits():
    assert ndcg(["a", "x"], {"a"}) == 1.0
    assert ndcg(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    # two relevant at ranks 2 and 3, ideal at 1 and 2
    expected = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg(["x", "a", "b"], {"a", "b"}) == pytest.approx(expected)
    assert ndcg(["x", "y"], {"a"}) == 0.0
    assert ndcg(["x"], set()) == 0.0


def test_ties_and_repeats_follow_the_list_order_and_count_once():
    # equal scores are broken by search, so metrics read the list in order
    assert first_ranks(["b", "a", "a", "b"], {"a"}) == [2]
    # a paragraph of the found article seen again lower down earns nothing more
    assert ndcg(["a", "a"], {"a"}) == 1.0
    # a hit standing for its article and the duplicates folded into it
    assert first_ranks([{"x", "y"}, {"z", "a"}], {"a"}) == [2]
    assert reciprocal_rank(["x", frozenset({"z", "a"})], {"a"}) == 0.5
    assert ndcg([{"a", "b"}], {"a", "b"}) == 1.0                           # capped at 1


def test_query_metrics_and_their_mean():
    rows = [query_metrics(["a"], {"a"}), query_metrics(["x", "y", "a"], {"a"}),
            query_metrics(["x"], {"a"})]
    assert rows[0] == {"mrr@10": 1.0, "recall@1": 1.0, "recall@10": 1.0, "ndcg@10": 1.0}
    mean = mean_metrics(rows)
    assert mean["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert mean["recall@1"] == pytest.approx(1 / 3)
    assert mean["recall@10"] == pytest.approx(2 / 3)
    assert mean["ndcg@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert mean_metrics([]) == dict.fromkeys(rows[0], 0.0)


# -- end to end ------------------------------------------------------------------------------

def _run(*args) -> Result:
    return CliRunner().invoke(eval_cmd, [str(a) for a in args], catch_exceptions=False)


def _check_result(result: dict, queries: int, min_mrr: float) -> None:
    assert result["queries"] == queries and result["unsearchable"] == 0
    for variant in ("accented", "accent_stripped"):
        m = result[variant]
        assert set(m) == {"mrr@10", "recall@1", "recall@10", "ndcg@10"}
        assert m["recall@1"] <= m["mrr@10"] <= m["ndcg@10"] <= m["recall@10"] <= 1
        assert m["mrr@10"] >= min_mrr, m
    # the analyzer folds accents first, so typing without them must cost (almost) nothing
    assert abs(result["accented"]["mrr@10"] - result["accent_stripped"]["mrr@10"]) <= 0.01


@needs_squad
def test_squad_sample_end_to_end(tmp_path):
    docs, queries = tmp_path / "docs.jsonl", tmp_path / "queries.jsonl"
    with open(SQUAD / "docs.jsonl", encoding="utf-8") as fh:
        lines = list(islice(fh, 200))
    docs.write_text("".join(lines), encoding="utf-8")
    ids = {json.loads(line)["id"] for line in lines}
    with open(SQUAD / "queries.jsonl", encoding="utf-8") as fh:
        wanted = [q for q in fh if json.loads(q)["relevant"][0] in ids][:200]
    queries.write_text("".join(wanted), encoding="utf-8")

    out = _run("--docs", docs, "--queries", queries, "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["paragraphs"] == 200 and result["titles_indexed"]
    _check_result(result, 200, min_mrr=0.6)

    table = _run("--docs", docs, "--queries", queries).stdout
    assert "MRR@10" in table and "accent-stripped" in table


def _headlines(tmp_path) -> tuple[list[EvalQuery], str]:
    titles = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        titles.setdefault(rec["article_id"], rec["title"])
    path = tmp_path / "headlines.jsonl"
    path.write_text("".join(json.dumps({"query": t, "article_id": a, "label": "?"}) + "\n"
                            for a, t in titles.items()), encoding="utf-8")
    return [EvalQuery(a, t, frozenset([a])) for a, t in titles.items()], path


def test_headlines_find_their_article_in_a_body_only_index(tmp_path):
    queries, path = _headlines(tmp_path)
    out = _run("--docs", SAMPLE, "--headlines", path, "--index", tmp_path / "ix", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert not result["titles_indexed"]             # no title, nor one derived from the text
    _check_result(result, len(queries), min_mrr=0.5)
    # the index kept in --index is reused as it is, and scores the same
    again = _run("--docs", SAMPLE, "--headlines", path, "--index", tmp_path / "ix", "--json")
    assert "as it is" in again.stderr
    assert json.loads(again.stdout)["accented"] == result["accented"]
    assert evaluate(Index(tmp_path / "ix"), queries)["accented"] == result["accented"]


def test_headlines_refuse_an_index_with_titles(tmp_path):
    _, path = _headlines(tmp_path)
    Index(tmp_path / "ix").add_paths([SAMPLE])
    out = _run("--headlines", path, "--index", tmp_path / "ix")
    assert out.exit_code == 2
    assert out.stderr.startswith("searchnews: error:") and "titles" in out.stderr


def test_stock_whoosh_runs_the_same_queries_beside(tmp_path):
    """--stock: the same headlines against Whoosh's own Spanish analyzer and an OR query,
    over the same body-only documents; searchnews must do better (it folds accents, keeps
    the words of a headline together, and re-ranks)."""
    queries, path = _headlines(tmp_path)
    out = _run("--docs", SAMPLE, "--headlines", path, "--stock", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    _check_result(result, len(queries), min_mrr=0.5)
    stock = result["stock"]
    for variant in ("accented", "accent_stripped"):
        assert 0 < stock[variant]["mrr@10"] < result[variant]["mrr@10"], (stock, result)
    table = _run("--docs", SAMPLE, "--headlines", path, "--stock").stdout
    assert "stock accent-stripped" in table


@pytest.mark.parametrize("args, message", [
    ((), "exactly one of --queries FILE and --headlines FILE"),
    (("--queries", "missing.jsonl"), "missing.jsonl: cannot read"),
    (("--queries", "q.jsonl", "--stock"), "--stock builds its index from --docs FILE"),
])
def test_errors_are_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    out = _run(*args)
    assert out.exit_code == 2
    assert out.stderr.count("\n") == 1 and message in out.stderr


def test_bad_query_line_names_file_and_line(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"qid": "1", "query": "a", "relevant": ["x"]}\n{"qid": 2}\n', encoding="utf-8")
    out = _run("--docs", SAMPLE, "--queries", bad)
    assert out.exit_code == 2 and f"{bad}:2: expected an object with" in out.stderr
