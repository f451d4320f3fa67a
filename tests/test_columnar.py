"""Scoring from the postings arrays ranks exactly as Whoosh's matchers do.

Indexes keep positions in the arrays only; to compare with Whoosh's own phrase matching, the
indexes here keep them in Whoosh's postings too (``WriteSettings(positions=True)``)."""

from __future__ import annotations

import json
import re

import pytest

from searchnews.engines.whoosh.commits import WriteSettings
from searchnews import Index
from searchnews.engines.whoosh import columnar, forward
from searchnews.errors import QueryError
from searchnews.engines.whoosh.backend import WhooshBackend
from searchnews.query import parse

from .conftest import DATA
from .conftest import updated_index as build_updated_index

SAMPLE = DATA / "fakenews_es_sample.jsonl"


def _queries() -> list[str]:
    """Words and phrases from the sample's first 120 paragraphs and their titles: common and
    rare words, in title and text, and phrases that are there (stopwords inside) or not."""
    out = ["Kursk", "soldados norcoreanos", "gobierno", "presidente de México",
           '"presidente de México"', '"soldados norcoreanos"', '"México presidente"']
    for n, line in enumerate(SAMPLE.read_text(encoding="utf-8").splitlines()[:120]):
        rec = json.loads(line)
        words = re.findall(r"[^\W\d_]{4,}", rec["title"] + " " + rec["text"])
        if len(words) >= 3:
            out.append(" ".join(words[n % 3:n % 3 + 1 + n % 3]))
        runs = re.findall(r"[^\W\d_]+(?: [^\W\d_]+){1,3}", rec["text"])
        if runs:
            out.append(f'"{runs[n % len(runs)]}"')
    return out


POSITIONAL = WriteSettings(positions=True)


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory):
    """Worker segments and one with deleted paragraphs (conftest), positions kept in
    Whoosh's postings too."""
    return build_updated_index(tmp_path_factory.mktemp("columnar"), positions=True)[0]


def _same_ranking(searcher, queries: list[str]) -> int:
    """Assert the arrays rank every query's two tiers as Whoosh does; how many found some."""
    compared = 0
    columns = columnar.Columns.of(searcher)
    for text in queries:
        try:
            parsed = parse(WhooshBackend(searcher), text)
        except QueryError:          # a phrase of stopwords only: nothing to compare
            continue
        for q in (parsed.q_all, parsed.q_any):
            ours = list(zip(*(a.tolist() for a in columns.top(q, 30))))
            theirs = [(h.docnum, h.score) for h in searcher.search(q, limit=30)]
            assert [d for d, _ in ours] == [d for d, _ in theirs], text
            assert [sc for _, sc in ours] == pytest.approx([sc for _, sc in theirs],
                                                           rel=1e-9), text
            compared += bool(theirs)
    return compared


def test_every_segment_has_its_postings_arrays(updated_index):
    with updated_index.searcher() as s:
        leaves = s.reader().leaf_readers()
        columns = columnar.Columns.of(s)
        assert len(leaves) >= 2 and any(r.has_deletions() for r, _ in leaves)
        assert columns is not None and len(columns.segments) == len(leaves)


def test_arrays_rank_as_whoosh_does(updated_index):
    with updated_index.searcher() as s:
        assert _same_ranking(s, _queries()) > 250    # most queries found something


def _small_runs(path, articles, settings: WriteSettings | None = None) -> tuple[Index, int]:
    """An index made by many small runs, which Whoosh merges into fewer segments."""
    folder = path / "news"
    folder.mkdir()
    ix = Index(path / "ix", settings)
    runs = 0
    for n in range(0, len(articles), 8):
        for rec in articles[n:n + 8]:
            (folder / f"{rec['article_id']}-{rec['paragraph']}.txt").write_text(
                rec["text"], encoding="utf-8")
        ix.add_paths([folder])
        runs += 1
    return ix, runs


def test_segments_merged_by_whoosh_keep_their_arrays(tmp_path):
    """Many small runs make Whoosh merge segments; the merged segment's arrays rank as
    Whoosh does — their positions decoded from Whoosh's merged postings, or, where those
    keep none (as indexes do), from the merged paragraphs analysed again."""
    articles = [json.loads(x) for x in SAMPLE.read_text(encoding="utf-8").splitlines()[:80]]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    positional, runs = _small_runs(tmp_path / "a", articles, POSITIONAL)
    plain, _ = _small_runs(tmp_path / "b", articles)
    phrases = [f'"{m}"' for rec in articles[::5]
               for m in re.findall(r"[^\W\d_]+ [^\W\d_]+ [^\W\d_]+", rec["text"])[:2]]
    queries = phrases + ["gobierno", "presidente de México", '"gobierno México"~3']
    with positional.searcher() as s, plain.searcher() as t:
        assert len(s.reader().leaf_readers()) < runs        # Whoosh merged some
        assert len(t.reader().leaf_readers()) == len(s.reader().leaf_readers())
        assert _same_ranking(s, queries) > 20
        a, b = columnar.Columns.of(s), columnar.Columns.of(t)
        for text in queries:
            try:
                one, other = parse(WhooshBackend(s), text), parse(WhooshBackend(t), text)
            except QueryError:          # a phrase of stopwords only
                continue
            for q, r in ((one.q_all, other.q_all), (one.q_any, other.q_any)):
                ours, theirs = a.top(q, 30), b.top(r, 30)
                assert ours[0].tolist() == theirs[0].tolist(), text
                assert ours[1].tolist() == pytest.approx(theirs[1].tolist(), rel=1e-9)


def test_deleted_paragraphs_are_never_returned(updated_index):
    """The words of each paragraph the update replaced or removed find other paragraphs,
    never the deleted ones (their postings are still in the segment's arrays)."""
    with updated_index.searcher() as s:
        columns = columnar.Columns.of(s)
        reader = s.reader()
        deleted = {off + d for r, off in reader.leaf_readers() for d in r._perdoc.deleted_docs()}
        words = {w for d in deleted
                 for w in re.findall(r"[^\W\d_]{5,}", reader.stored_fields(d)["text"])}
        found = set(columns.top(parse(WhooshBackend(s), " OR ".join(sorted(words))).q_any, 10**6)[0].tolist())
    assert deleted and len(found) > 50
    assert not deleted & found


def test_queries_answer_the_same_with_and_without_arrays(updated_index, monkeypatch):
    """Through the whole search path (grouping, re-ranking, date filter and sort, snippets),
    and "similar" (a weighted OR query with the article itself masked out)."""
    queries = [("gobierno de México", {}), ("presidente elecciones", {"since": "2017"}),
               ("vacunación país", {"more": 3}), ("Kursk", {"more": 3}),
               ("gobierno", {"sort": "date", "limit": 60, "group": False, "dedup": False}),
               ("presidente", {"sort": "date", "since": "2016", "limit": 30})]

    def results():
        fresh = Index(updated_index.path)
        found = [[(h.to_dict(), [o.to_dict() for o in h.others]) for h in fresh.search(q, **opts)]
                 for q, opts in queries]
        related = [h.to_dict() for h in fresh.similar(found[0][0][0]["article_id"])]
        return found, related

    # how many paragraphs have a spelling only the forward index counts: without it the
    # exact-spelling score weighs a spelling as its stem, so both runs do here
    monkeypatch.setattr(forward, "spelling_frequencies", lambda columns, spellings: None)
    with_arrays, related = results()
    monkeypatch.setattr(columnar.Columns, "of", classmethod(lambda cls, searcher: None))
    assert results() == (with_arrays, related)
    assert all(with_arrays) and any(others for hits in with_arrays for _, others in hits)
    assert any(hit["matches"] > 1 for hits in with_arrays for hit, _ in hits)
    assert len(related) > 3


def test_negations_loose_phrases_and_outlets_rank_as_whoosh_does(updated_index):
    """What the query language makes besides words and phrases: NOT and -word, +word,
    ANDMAYBE, phrases with slop, outlets (fuente:), groups and boosts of words."""
    queries = ['"gobierno México"~3', '"presidente México"~2', '"nuevo plan"~4',
               '"presidente Trump"~3', '"Trump presidente"~3', '"Putin Kim"~4',
               "gobierno NOT México", "gobierno -México", "+gobierno México",
               "gobierno ANDMAYBE México", "(gobierno OR presidente) AND NOT Kursk",
               "fuente:proceso gobierno", 'fuente:"el pais" presidente', "gobierno^2 México",
               '"gobierno de México" -plan', "Kursk OR (soldados AND norcoreanos)"]
    with updated_index.searcher() as s:
        assert _same_ranking(s, queries) > 18         # of 26 tiers, most found something
    loose = updated_index.search('"presidente Trump"~3', group=False, limit=50)
    assert loose and not updated_index.search('"presidente Trump"', group=False, limit=50)
    assert not updated_index.search('"Trump presidente"~3', group=False)    # in order


def test_the_arrays_answer_phrases_whoosh_cannot(sample_index):
    """Whoosh's own postings of title and text keep no positions in an index; every phrase
    is matched from the arrays."""
    with sample_index.searcher() as s:
        assert not s.schema["text"].format.supports("positions")
        for text in ('"soldados norcoreanos"', '"gobierno México"~3'):
            with pytest.raises(Exception, match="no positions"):
                s.search(parse(WhooshBackend(s), text).q_all, limit=5)
    assert sample_index.search('"soldados norcoreanos"')[0].article_id.startswith("000_")
    assert sample_index.search('"soldado norcoreano"~2')


def test_a_segment_of_undated_articles_reads_as_undated(tmp_path):
    """Dates come from each segment's date column, read in one piece; a segment whose
    articles have no date has no such column."""
    ix = Index(tmp_path / "ix")
    ix.add_paths([SAMPLE])
    undated = tmp_path / "sin-fecha.txt"
    undated.write_text("El gobierno de México presentó su plan.\n\nEl gobierno insistió.",
                       encoding="utf-8")
    ix.add_paths([SAMPLE, undated])
    with ix.searcher() as s:
        assert len(s.reader().leaf_readers()) == 2
    since = ix.search("gobierno", limit=200, since="2000", group=False)
    newest = ix.search("gobierno", limit=200, sort="date", group=False, dedup=False)
    assert since and all(h.date for h in since)
    dates = [h.date for h in newest]
    dated = [d for d in dates if d]
    assert dated and dates == sorted(dated, reverse=True) + [None] * (len(dates) - len(dated))
    assert {h.paragraph for h in newest if h.article_id == "sin-fecha"} == {0, 1}
