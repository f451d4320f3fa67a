"""``searchnews eval``: the metrics on hand-made cases, and end-to-end runs on real text."""

from __future__ import annotations

import json
import math
from itertools import islice, zip_longest

import pytest
from click.testing import CliRunner, Result

from searchnews import Index
from searchnews.articles import iter_articles
from searchnews.cli import main
from searchnews.evaluate import (EvalDocs, EvalQuery, evaluate, first_ranks,
                                 mean_metrics, ndcg, query_metrics, recall, reciprocal_rank,
                                 select_queries)

from .conftest import ANCORA, DATA, FAKENEWS, ROOT, needs_corpora
from .test_engines import clusters  # noqa: F401 - its fixture

SQUAD = ROOT.parent / "shared" / "eval" / "squad-es"
SAMPLE = DATA / "fakenews_es_sample.jsonl"
ANCORA_SAMPLE = DATA / "ancora_ud_sample.jsonl"        # 12 articles, 158 paragraphs, no titles

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
    return CliRunner().invoke(main, ["eval", *[str(a) for a in args]], catch_exceptions=False)


def _check_result(result: dict, queries: int, min_mrr: float) -> None:
    assert result["queries"] == queries and result["unsearchable"] == 0
    for variant in ("accented", "accent_stripped"):
        m = result[variant]
        assert set(m) == {"mrr@10", "recall@1", "recall@10", "ndcg@10"}
        assert m["recall@1"] <= m["mrr@10"] <= m["ndcg@10"] <= m["recall@10"] <= 1
        assert m["mrr@10"] >= min_mrr, m
    # the analyzer folds accents first, so typing without them must cost (almost) nothing
    assert abs(result["accented"]["mrr@10"] - result["accent_stripped"]["mrr@10"]) <= 0.01


def _squad_sample(tmp_path, n: int = 200):
    """The first ``n`` squad-es paragraphs, and up to ``n`` queries answered by them."""
    docs, queries = tmp_path / "docs.jsonl", tmp_path / "queries.jsonl"
    with open(SQUAD / "docs.jsonl", encoding="utf-8") as fh:
        lines = list(islice(fh, n))
    docs.write_text("".join(lines), encoding="utf-8")
    ids = {json.loads(line)["id"] for line in lines}
    with open(SQUAD / "queries.jsonl", encoding="utf-8") as fh:
        wanted = [q for q in fh if json.loads(q)["relevant"][0] in ids][:n]
    queries.write_text("".join(wanted), encoding="utf-8")
    return docs, queries


@needs_squad
def test_squad_sample_end_to_end(tmp_path):
    docs, queries = _squad_sample(tmp_path)
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


def test_eval_measures_the_sphinx_engine_too(tmp_path, clusters):
    """--engine: the same headlines on a Sphinx cluster, built there from --docs while it
    is empty and reused as it is after; the one pipeline ranks, Sphinx scores BM25."""
    queries, path = _headlines(tmp_path)
    url = clusters().url                                   # a new, empty cluster
    embedded = json.loads(_run("--docs", SAMPLE, "--headlines", path, "--json").stdout)
    out = _run("--docs", SAMPLE, "--headlines", path, "--engine", url, "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["paragraphs"] == embedded["paragraphs"] and not result["titles_indexed"]
    _check_result(result, len(queries), min_mrr=0.5)
    assert abs(result["accented"]["mrr@10"] - embedded["accented"]["mrr@10"]) <= 0.1
    again = _run("--docs", SAMPLE, "--headlines", path, "--engine", url, "--json")
    assert "as it is" in again.stderr
    assert json.loads(again.stdout)["accented"] == result["accented"]
    assert json.loads(again.stdout)["variant"]["index"] == url
    refused = _run("--docs", SAMPLE, "--headlines", path, "--engine", url,
                   "--distractors", ANCORA_SAMPLE)
    assert refused.exit_code == 2 and "holds one already" in refused.stderr


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
    (("--queries", "q.jsonl", "--distractors", "d.jsonl"),
     "--distractors needs the judged documents: give --docs FILE"),
    (("--queries", "q.jsonl", "--articles"), "--articles needs the judged documents"),
    (("--docs", "x.jsonl", "--queries", "q.jsonl", "--articles", "--index", "ix"),
     "--articles builds an index of its own: omit --index"),
    (("--docs", "x.jsonl", "--headlines", "h.jsonl", "--articles"),
     "--articles merges judged documents by title: use it with --queries"),
    (("--docs", "x.jsonl", "--queries", "q.jsonl", "--distractors", "d.jsonl", "--index", "ix"),
     "--distractors builds an index of its own: omit --index"),
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


# -- distractors: the judged documents inside an archive -------------------------------------

def _json(*args) -> dict:
    out = _run(*args, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def _judged_headlines(tmp_path) -> str:
    """The sample's headlines as judged queries ({qid, query, relevant})."""
    queries, _ = _headlines(tmp_path)
    path = tmp_path / "judged.jsonl"
    path.write_text("".join(json.dumps({"qid": q.qid, "query": q.text,
                                        "relevant": sorted(q.relevant)}) + "\n"
                            for q in queries), encoding="utf-8")
    return path


def test_distractors_are_indexed_beside_the_docs_and_recorded(tmp_path):
    queries, path = _headlines(tmp_path)
    plain = _json("--docs", SAMPLE, "--headlines", path)
    mixed = _json("--docs", SAMPLE, "--headlines", path, "--distractors", ANCORA_SAMPLE)
    assert plain["paragraphs"] == 407 and mixed["paragraphs"] == 407 + 158
    assert plain["variant"]["distractors"] == []
    assert mixed["variant"] == {
        "queries": str(path), "headlines": True, "split": None, "sample": None,
        "index": None, "docs": str(SAMPLE), "titles": False, "articles": False,
        "documents": 40,
        "distractors": [{"file": str(ANCORA_SAMPLE), "articles": 12, "paragraphs": 158}]}
    # AnCora has no titles: indexed as they are, they would get one from the first sentence,
    # and the headline check would refuse the index; the distractors are body-only too
    assert not mixed["titles_indexed"]
    _check_result(mixed, len(queries), min_mrr=0.5)
    table = _run("--docs", SAMPLE, "--headlines", path, "--distractors", ANCORA_SAMPLE).stdout
    assert "565 paragraphs" in table and "158 of them distractors" in table


def test_no_titles_leaves_the_distractors_titles_out_too(tmp_path):
    judged = _judged_headlines(tmp_path)
    args = ("--docs", SAMPLE, "--queries", judged, "--distractors", ANCORA_SAMPLE)
    with_titles, without = _json(*args), _json(*args, "--no-titles")
    assert with_titles["titles_indexed"] and with_titles["variant"]["titles"]
    assert not without["titles_indexed"] and not without["variant"]["titles"]
    assert without["paragraphs"] == with_titles["paragraphs"] == 407 + 158
    # a headline finds its article from the title, trivially, only when titles are indexed
    assert with_titles["accented"]["recall@1"] == 1.0 > without["accented"]["recall@1"]


def test_a_distractor_is_never_relevant(tmp_path):
    judged = tmp_path / "q.jsonl"
    distractor_id = json.loads(ANCORA_SAMPLE.read_text(encoding="utf-8").split("\n")[0])[
        "article_id"]
    judged.write_text(json.dumps({"qid": "7", "query": "Pauleta", "relevant": [distractor_id]})
                      + "\n", encoding="utf-8")
    out = _run("--docs", SAMPLE, "--queries", judged, "--distractors", ANCORA_SAMPLE)
    assert out.exit_code == 2 and out.stderr.count("\n") == 1
    assert f"query 7: relevant id '{distractor_id}' is a distractor" in out.stderr
    # without distractors the same query is only a miss
    assert _json("--docs", SAMPLE, "--queries", judged)["accented"]["mrr@10"] == 0


@pytest.mark.parametrize("distractors", [[SAMPLE], [ANCORA_SAMPLE, ANCORA_SAMPLE]])
def test_distractor_ids_must_not_collide(tmp_path, distractors):
    _, path = _headlines(tmp_path)
    args = [a for d in distractors for a in ("--distractors", d)]
    out = _run("--docs", SAMPLE, "--headlines", path, *args)
    assert out.exit_code == 2 and out.stderr.count("\n") == 1
    assert f"{distractors[-1]}: distractor id '" in out.stderr
    assert ("judged document's id" if distractors == [SAMPLE] else "is also in") in out.stderr


@needs_squad
@needs_corpora
def test_squad_among_the_news_corpora(tmp_path):
    """The first 200 squad-es paragraphs inside the ~18k news paragraphs: the archive
    competes for every query, so both rankings lose some of what they found alone."""
    docs, queries = _squad_sample(tmp_path)
    plain = _json("--docs", docs, "--queries", queries, "--stock")
    mixed = _json("--docs", docs, "--queries", queries, "--stock",
                  "--distractors", FAKENEWS, "--distractors", ANCORA)
    counts = [(d["articles"], d["paragraphs"]) for d in mixed["variant"]["distractors"]]
    assert counts == [(1543, 14907), (312, 3256)]
    assert mixed["paragraphs"] == 200 + 14907 + 3256 and mixed["titles_indexed"]
    _check_result(mixed, 200, min_mrr=0.5)
    for ranking in (mixed, mixed["stock"]):
        base = plain if ranking is mixed else plain["stock"]
        assert ranking["accented"]["mrr@10"] < base["accented"]["mrr@10"], (ranking, base)


# -- whole articles: documents that share a title merged ----------------------------------

def _paragraph_docs(tmp_path):
    """The sample's articles cut into squad-style {id, title, text} documents, one per
    paragraph, the articles interleaved (paragraph 0 of each, then paragraph 1...); and
    queries made of the first words of an article's paragraph 1, judged to be answered by
    its paragraph 2 — a sibling, which only a whole-article index counts as found."""
    articles = list(iter_articles(SAMPLE))
    rows = [[{"id": f"{a.article_id}-p{i}", "title": a.title, "text": t}
             for i, t in enumerate(a.paragraphs)] for a in articles]
    docs, queries = tmp_path / "docs.jsonl", tmp_path / "queries.jsonl"
    docs.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n"
                            for layer in zip_longest(*rows) for d in layer if d),
                    encoding="utf-8")
    queries.write_text("".join(json.dumps({"qid": a.article_id,
                                           "query": " ".join(a.paragraphs[1].split()[:12]),
                                           "relevant": [f"{a.article_id}-p2"]}) + "\n"
                               for a in articles if len(a.paragraphs) >= 3), encoding="utf-8")
    return articles, docs, queries


def test_articles_merge_documents_by_title_in_file_order(tmp_path):
    articles, docs, _ = _paragraph_docs(tmp_path)
    merged = EvalDocs.read(docs, articles=True)
    assert merged.documents == len(articles) == 40
    assert [(a.article_id, a.title, a.paragraphs) for a in merged.merged] == \
        [(f"{a.article_id}-p0", a.title, a.paragraphs) for a in articles]
    query = EvalQuery("q", "x", frozenset({f"{articles[3].article_id}-p5"}))
    assert merged.judge([query])[0].relevant == {f"{articles[3].article_id}-p0"}
    # not merged, the documents and the relevant ids stay as they are
    plain = EvalDocs.read(docs)
    assert plain.documents == 407 and plain.judge([query])[0].relevant == query.relevant


def test_articles_find_a_paragraph_by_its_sibling(tmp_path):
    articles, docs, queries = _paragraph_docs(tmp_path)
    n = sum(len(a.paragraphs) >= 3 for a in articles)
    plain = _json("--docs", docs, "--queries", queries, "--stock")
    merged = _json("--docs", docs, "--queries", queries, "--stock", "--articles")
    assert plain["paragraphs"] == merged["paragraphs"] == 407
    assert (plain["variant"]["documents"], merged["variant"]["documents"]) == (407, 40)
    assert merged["variant"]["articles"] and not plain["variant"]["articles"]
    # as paragraphs, the query finds paragraph 1, not the judged paragraph 2; as articles,
    # paragraph 1 finds the article, which is the judged one — for stock Whoosh too
    for ranking in (plain, plain["stock"]):
        assert ranking["accented"]["recall@1"] == 0.0, ranking
    _check_result(merged, n, min_mrr=0.95)
    assert merged["stock"]["accented"]["mrr@10"] >= 0.95, merged["stock"]
    table = _run("--docs", docs, "--queries", queries, "--articles").stdout
    assert "40 judged whole articles" in table


def test_articles_with_distractors_and_no_titles(tmp_path):
    articles, docs, queries = _paragraph_docs(tmp_path)
    result = _json("--docs", docs, "--queries", queries, "--articles", "--no-titles",
                   "--distractors", ANCORA_SAMPLE, "--stock")
    assert result["paragraphs"] == 407 + 158 and not result["titles_indexed"]
    assert {k: result["variant"][k] for k in ("articles", "documents", "titles")} == \
        {"articles": True, "documents": 40, "titles": False}
    _check_result(result, sum(len(a.paragraphs) >= 3 for a in articles), min_mrr=0.95)
    assert result["stock"]["accented"]["mrr@10"] >= 0.95
    # the merged documents keep their ids of their own: a distractor may not take one
    clash = tmp_path / "clash.jsonl"
    clash.write_text(json.dumps({"article_id": f"{articles[0].article_id}-p3", "title": "x",
                                 "date": None, "source": None, "url": None, "paragraph": 0,
                                 "text": articles[0].paragraphs[3]}) + "\n", encoding="utf-8")
    out = _run("--docs", docs, "--queries", queries, "--articles", "--distractors", clash)
    assert out.exit_code == 2 and "judged document's id" in out.stderr


# -- halves and samples of the queries -------------------------------------------------------

def test_select_queries_halves_and_spreads():
    queries = [EvalQuery(str(i), f"q{i}", frozenset({"a"})) for i in range(1, 8)]
    qids = lambda qs: [q.qid for q in qs]                                     # noqa: E731
    assert qids(select_queries(queries)) == list("1234567")
    assert qids(select_queries(queries, "odd")) == list("1357")
    assert qids(select_queries(queries, "even")) == list("246")
    assert qids(select_queries(queries, sample=3)) == list("135")        # 0, 7//3, 14//3
    assert qids(select_queries(queries, "odd", sample=2)) == list("15")
    assert qids(select_queries(queries, sample=50)) == list("1234567")   # no more than there are


def test_split_halves_add_up_to_the_whole_set(tmp_path):
    queries, path = _headlines(tmp_path)
    args = ("--docs", SAMPLE, "--headlines", path, "--index", tmp_path / "ix")
    whole, odd, even = _json(*args), _json(*args, "--split", "odd"), \
        _json(*args, "--split", "even")
    assert (odd["queries"], even["queries"]) == (20, 20) and whole["queries"] == 40
    assert (odd["variant"]["split"], whole["variant"]["split"]) == ("odd", None)
    for m in ("mrr@10", "recall@10"):
        assert (odd["accented"][m] + even["accented"][m]) / 2 == \
            pytest.approx(whole["accented"][m], abs=1e-4)
    sampled = _json(*args, "--split", "even", "--sample", 5)
    assert sampled["queries"] == 5 and sampled["variant"]["sample"] == 5
    assert sampled["variant"]["index"] == str(tmp_path / "ix")      # reused as it is
