"""Both engines, one behaviour: the embedded Whoosh index and a Sphinx cluster give the same
paragraphs, highlights, JSON records, exit codes and incremental counts; a Sphinx node that
dies gives a clear error (or, with a mirror, still the whole answer), never partial results.

The Sphinx side runs on ``$SEARCHNEWS_TEST_SPHINX`` (an engine URL, set by .ci/run from
``.ci/sphinx-cluster``) or on clusters these tests start with the local ``searchd``. Without
either the Sphinx tests are skipped, saying why — except under ``$CI``, where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from searchnews import Index, read_file
from searchnews.errors import QueryError, SearchnewsError
from searchnews.engines.sphinx import SphinxEngine
from searchnews.engines.sphinx.conf import Cluster, node_pid, start_cluster, stop_cluster, write_configs

from .conftest import DATA, FAKENEWS, SEEDS, rewrite_feed

SEED_ID = "000_aa4e37ec6fc49a3b"
SAMPLE = [a for f in [*sorted(DATA.glob("*.jsonl")), *sorted(SEEDS.glob("*"))]
          for a in read_file(f, SEEDS if f.parent == SEEDS else None).articles]
EVERYTHING = 100_000      # a limit above any result count: compare whole result sets


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Sphinx engine tests: {reason}")
    pytest.skip(reason)


def _need_pymysql() -> None:
    try:
        import pymysql  # noqa: F401 - only to see that it is installed
    except ImportError:
        _unavailable("pymysql not installed (pip install pymysql): the sphinx engine needs it")


def _need_searchd() -> None:
    _need_pymysql()
    if not shutil.which("searchd"):
        _unavailable("searchd not installed (apt-get install sphinxsearch)" + (
            ": this test starts its own cluster" if os.environ.get("SEARCHNEWS_TEST_SPHINX")
            else " and $SEARCHNEWS_TEST_SPHINX not set"))


@pytest.fixture(scope="session")
def clusters(tmp_path_factory):
    """Start throwaway clusters on free ports; every one is stopped at the end."""
    started: list[Path] = []

    def start(nodes: int = 2, mirror: bool = False) -> Cluster:
        _need_searchd()
        folder = tmp_path_factory.mktemp("sphinx")
        cluster = write_configs(folder, nodes=nodes, port=0, mirror=mirror)
        started.append(folder)
        start_cluster(folder)
        return cluster

    yield start
    for folder in started:
        stop_cluster(folder)


@pytest.fixture(scope="session")
def sphinx_url(clusters) -> str:
    _need_pymysql()
    return os.environ.get("SEARCHNEWS_TEST_SPHINX") or clusters().url


@pytest.fixture(scope="session")
def sphinx_sample(sphinx_url) -> SphinxEngine:
    """The seed and the sample in Sphinx, rebuilt so a reused cluster starts clean."""
    engine = SphinxEngine(sphinx_url)
    report = engine.add_paths([SEEDS, DATA], rebuild=True)
    assert not report.failed and report.added == len(SAMPLE)
    yield engine
    engine.close()


@dataclass
class Engine:
    name: str
    ix: object
    args: tuple[str, ...]          # how the CLI names it


@pytest.fixture(params=["whoosh", "sphinx"])
def engine(request, sample_index) -> Engine:
    """The seed and the sample, in each engine in turn."""
    if request.param == "whoosh":
        return Engine("whoosh", sample_index, ("--engine", f"whoosh://{sample_index.path}"))
    sphinx = request.getfixturevalue("sphinx_sample")
    return Engine("sphinx", sphinx, ("--engine", sphinx.url))


def found(ix, query: str, **options) -> dict:
    """Every matching paragraph → what a user sees of it (JSON record without rank and
    score, and the title's highlights)."""
    out = {}
    for h in ix.search(query, limit=EVERYTHING, group=False, dedup=False, **options):
        record = h.to_dict()
        del record["rank"], record["score"]
        out[(h.article_id, h.paragraph)] = (record, h.title_highlights)
    return out


BBC_WORD = next(w for a in SAMPLE if a.source == "BBC News"
                for w in a.paragraphs[0].split() if len(w) >= 6 and w.isalpha())
DATED = sorted(a.date for a in SAMPLE if a.date)

QUERIES = [
    ("Kursk", {}),
    ("kursk", {}),                                      # case
    ("cooperacion estrategica", {}),                     # accentless
    ("soldado norcoreano", {}),                          # singular finds plural
    ("ELECCIONES", {}),
    ('"ruta aérea directa"', {}),                        # phrase
    ('"soldado norcoreano"', {}),
    ("Kursk -liberación", {}),                          # NOT
    ("Kursk NOT liberacion", {}),
    ("Alaska OR Kursk", {}),                            # OR
    ("(Alaska OR Kursk) AND Trump", {}),
    ("presidente ANDMAYBE gobierno", {}),
    ("title:Putin", {}),                                # fields
    ("titulo:cooperación", {}),
    (f"fuente:bbc {BBC_WORD}", {}),
    (f'source:"BBC News" {BBC_WORD}', {}),
    ("norcor*", {}),                                    # prefix
    ("cooperaci*", {}),
    ("presid*", {}),
    ("gobierno", {"since": DATED[len(DATED) // 2]}),    # dates
    ("gobierno", {"since": "2017", "until": "2018-06"}),
    ("Kursk", {"until": "2025-08-12"}),
    ("gobierno", {"sources": ["bbc news", "EL PAÍS"]}),  # outlets
    ("presidente gobierno", {"syntax": False}),
    ('¿Qué dijo "Putin" (ayer)?', {"syntax": False}),
]


@pytest.mark.parametrize("query,options", QUERIES, ids=[q for q, _ in QUERIES])
def test_engines_agree_on_matches_highlights_and_records(sample_index, sphinx_sample,
                                                         query, options):
    whoosh = found(sample_index, query, **options)
    sphinx = found(sphinx_sample, query, **options)
    assert set(sphinx) == set(whoosh)
    assert sphinx == whoosh          # same JSON fields, highlight spans and title spans
    if options.get("until") != "2025-08-12":             # the seed is dated the 13th
        assert whoosh, "a query that finds nothing proves little"


def test_sort_by_date_and_grouping_agree(sample_index, sphinx_sample):
    for ix in (sample_index, sphinx_sample):
        newest = ix.search("gobierno presidente", limit=EVERYTHING, sort="date",
                           group=False, dedup=False)
        dates = [h.date for h in newest]
        dated = [d for d in dates if d]
        assert dated == sorted(dated, reverse=True) and newest[0].score is None
        assert dates == dated + [None] * (len(dates) - len(dated))   # undated last
    grouped = [{(h.article_id, h.matches) for h in ix.search("gobierno", limit=50)}
               for ix in (sample_index, sphinx_sample)]
    assert grouped[0] == grouped[1]            # one hit per article, same match counts


def test_same_stats_and_articles(engine, sample_index):
    stats = engine.ix.stats()
    reference = sample_index.stats()
    assert list(stats) == list(reference)
    for key in ("articles", "paragraphs", "files", "sources", "date_first", "date_last"):
        assert stats[key] == reference[key], key
    seed = engine.ix.article(SEED_ID)
    assert seed == sample_index.article(SEED_ID) and len(seed.paragraphs) == 11
    assert engine.ix.article("no-such-article") is None


def _json_lines(result) -> list[dict]:
    return [json.loads(x) for x in result.stdout.splitlines()]


def test_cli_output_and_exit_codes(engine, run):
    hits = run("query", "Kursk", *engine.args)
    assert hits.exit_code == 0 and hits.stdout.count("[[Kursk]]") == 2
    assert "¶7/11" in hits.stdout and "2 paragraphs match" in hits.stdout
    records = _json_lines(run("query", "soldado norcoreano", "--json", "--paragraphs",
                              *engine.args))
    assert records and list(records[0]) == ["rank", "score", "article_id", "title", "date",
                                            "source", "url", "paragraph", "text",
                                            "highlights", "matches", "duplicates",
                                            "title_highlights"]
    assert {records[0]["text"][s:e] for s, e in records[0]["highlights"]} >= {"soldados"}
    nothing = run("query", "zanahoriaxyzw", *engine.args)
    assert nothing.exit_code == 1 and nothing.stdout == ""
    stopwords = run("query", "de la que", *engine.args)
    assert stopwords.exit_code == 1 and "only stopwords" in stopwords.stderr
    for bad in ('"cooperación estratégica', "autor:Putin", "NOT Kursk", "Putin AND"):
        result = run("query", bad, *engine.args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
    bad_date = run("query", "Kursk", "--since", "ayer", *engine.args)
    assert bad_date.exit_code == 2 and "invalid date 'ayer'" in bad_date.stderr
    fuzzy = run("query", "Pyongyng~", *engine.args)
    if engine.name == "whoosh":
        assert fuzzy.exit_code == 0
    else:
        assert fuzzy.exit_code == 2 and \
            fuzzy.stderr.strip() == "searchnews: error: fuzzy terms (word~) need the " \
                                    "embedded engine"
    show = run("show", SEED_ID, "-p", "7", *engine.args)
    assert show.exit_code == 0 and ">  7. En este contexto" in show.stdout
    assert run("similar", SEED_ID, *engine.args).exit_code in (0, 1)
    stats = json.loads(run("stats", "--json", *engine.args).stdout)
    assert stats["paragraphs"] == sum(len(a.paragraphs) for a in SAMPLE)


def test_unreachable_server_is_one_line(run):
    result = run("query", "Kursk", "--engine", "sphinx://127.0.0.1:1/noticias")
    assert result.exit_code == 2
    assert result.stderr.strip() == \
        "searchnews: error: cannot reach sphinx://127.0.0.1:1/noticias: connection refused"
    bad = run("query", "Kursk", "--engine", "sphinx://127.0.0.1/noticias")
    assert bad.exit_code == 2 and "bad engine URL" in bad.stderr


def _articles_of(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(json.loads(x)["article_id"] for x in lines))


NEW_TEXT = "Nuevo párrafo sobre la región fronteriza de Kursk."


def test_incremental_reindex_counts_and_mirror_semantics(engine, clusters, tmp_path, run):
    """The embedded engine's incremental story (tests/test_index.py), told to both."""
    ix = Index(tmp_path / "ix") if engine.name == "whoosh" else SphinxEngine(clusters().url)
    src = tmp_path / "news"
    src.mkdir()
    shutil.copy(SEEDS / f"{SEED_ID}.txt", src)
    lines = (DATA / "fakenews_es_sample.jsonl").read_text(encoding="utf-8").splitlines(True)
    ids = _articles_of(lines)
    feed = src / "feed.jsonl"
    feed.write_text("".join(lines), encoding="utf-8")
    counts = lambda r: (r.added, r.updated, r.removed, r.unchanged, len(r.failed))  # noqa: E731

    assert counts(ix.add_paths([src])) == (len(ids) + 1, 0, 0, 0, 0)
    again = ix.add_paths([src])
    assert counts(again) == (0, 0, 0, len(ids) + 1, 0) and again.paragraphs == 0

    changed, dropped = ids[0], ids[1]
    feed.write_text(rewrite_feed(lines, changed, dropped, NEW_TEXT), encoding="utf-8")
    assert counts(ix.add_paths([src])) == (0, 1, 1, len(ids) - 1, 0)
    assert ix.article(dropped) is None
    assert ix.article(changed).paragraphs[0] == NEW_TEXT
    assert changed in {h.article_id for h in ix.search("Kursk", limit=50)}

    other = tmp_path / "other.jsonl"                  # indexed from another path: it stays
    shutil.copy(DATA / "ancora_ud_sample.jsonl", other)
    n_other = len(_articles_of(other.read_text(encoding="utf-8").splitlines()))
    assert counts(ix.add_paths([other])) == (n_other, 0, 0, 0, 0)
    (src / f"{SEED_ID}.txt").unlink()                 # gone from the folder: removed
    assert counts(ix.add_paths([src])) == (0, 0, 1, len(ids) - 1, 0)
    assert ix.article(SEED_ID) is None and ix.search("Kursk", limit=50)[0].article_id == changed
    assert ix.stats()["files"] == 2

    cli = run("index", str(src), str(other), "--json", *(
        ("--index", str(ix.path)) if engine.name == "whoosh" else ("--engine", ix.url)))
    assert cli.exit_code == 0 and json.loads(cli.stdout)["unchanged"] == len(ids) - 1 + n_other
    rebuilt = ix.add_paths([src, other], rebuild=True)
    assert counts(rebuilt) == (len(ids) - 1 + n_other, 0, 0, 0, 0)
    assert ix.stats()["articles"] == len(ids) - 1 + n_other


def _kill(cluster: Cluster, node: int) -> None:
    """kill -9 a node's main process by the pid in its pid file, and wait until it is gone."""
    pid = node_pid(cluster.nodes[node])
    assert pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while node_pid(cluster.nodes[node]) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_dead_node_is_a_clear_error_never_partial_results(clusters, run):
    cluster = clusters()
    ix = SphinxEngine(cluster.url)
    assert not ix.add_paths([SEEDS, DATA]).failed
    whole = found(ix, "gobierno")
    assert whole
    _kill(cluster, 1)                                  # mid-use: the engine is open
    started = time.monotonic()
    with pytest.raises(SearchnewsError, match=r"shard agent 127\.0\.0\.1:\d+ .*did not answer"):
        ix.search("gobierno")
    assert time.monotonic() - started < 5
    result = run("query", "gobierno", "--engine", cluster.url)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "did not answer; refusing partial results" in result.stderr
    _kill(cluster, 0)
    with pytest.raises(SearchnewsError, match=r"cannot reach sphinx://127\.0\.0\.1:\d+/"
                                              r"noticias: connection refused"):
        ix.search("gobierno")
    ix.close()


def test_a_mirror_answers_for_a_dead_node(clusters):
    cluster = clusters(nodes=2, mirror=True)
    assert "|" in cluster.url
    ix = SphinxEngine(cluster.url)
    assert not ix.add_paths([SEEDS, DATA]).failed
    whole = found(ix, "gobierno")
    figures = {k: v for k, v in ix.stats().items() if k != "size_bytes"}
    _kill(cluster, 1)                                  # shard 1's first node
    started = time.monotonic()
    for _ in range(5):
        assert found(ix, "gobierno") == whole          # complete, every time
    assert time.monotonic() - started < 5
    # stats read each shard from a mirror that answers
    assert {k: v for k, v in ix.stats().items() if k != "size_bytes"} == figures
    _kill(cluster, 2)                                  # and its mirror: now an error
    with pytest.raises(SearchnewsError, match="did not answer"):
        ix.search("gobierno")
    ix.close()


def test_one_writer_at_a_time(sphinx_sample):
    with sphinx_sample._write_lock(wait=0):
        with pytest.raises(SearchnewsError, match=r"being written by another .*waited 0\.2s"):
            sphinx_sample.add_paths([SEEDS], wait=0.2)
    assert sphinx_sample.add_paths([SEEDS]).unchanged == 1


def test_sphinx_specific_limits_are_clear_errors(sphinx_sample):
    with pytest.raises(QueryError, match="fuzzy terms"):
        sphinx_sample.search("Pyongyng~")
    with pytest.raises(QueryError, match="needs a letter before"):
        sphinx_sample.search("*ang")
    text = sphinx_sample.explain("cooperacion estrategica")
    assert "sphinx all: MATCH('((@(title,text) cooper) (@(title,text) estrateg))')" in text
    assert sphinx_sample.search("cooperacion").suggestion is None


def test_full_fakenews_corpus_agrees(fakenews_index, clusters):
    """The shared corpus (skipped when absent): same counts, same matches."""
    ix = SphinxEngine(clusters().url)
    report = ix.add_paths([FAKENEWS])
    reference = fakenews_index.stats()
    assert (report.added, len(report.failed)) == (reference["articles"], 0)
    stats = ix.stats()
    for key in ("articles", "paragraphs", "sources", "date_first", "date_last"):
        assert stats[key] == reference[key], key
    for query in ("vacuna covid", '"Estados Unidos"', "Trump -muro", "corrup*",
                  "fuente:bbc elecciones"):
        assert found(ix, query) == found(fakenews_index, query), query
    ix.close()
