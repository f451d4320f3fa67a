"""The forward index gives re-ranking the very evidence the stored text gives, and untitled
articles' derived titles are shown without being searched."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from whoosh.qparser import AndGroup, OrGroup

from searchnews import Index, duplicates, evidence
from searchnews.engines.whoosh import columnar, forward
from searchnews.analysis import fold, token
from searchnews.errors import QueryError
from searchnews.evidence import QueryWords
from searchnews.engines.whoosh.backend import WhooshBackend
from searchnews.query import _parser, _required_first, parse, plain_queries, words_only

from .conftest import DATA, updated_index

SAMPLE = DATA / "fakenews_es_sample.jsonl"
UNTITLED = DATA / "ancora_ud_sample.jsonl"


def _records(path=SAMPLE) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _questions() -> list[str]:
    """Queries of two to twelve words cut from the sample's titles and paragraphs, as typed
    (accents, capitals, plurals): most share words with many paragraphs."""
    out = []
    for n, rec in enumerate(_records()[:150]):
        words = re.findall(r"\w+", (rec["title"] if n % 2 else rec["text"]))
        start = n % max(1, len(words) - 2)
        out.append(" ".join(words[start:start + 2 + n % 11]))
    return [q for q in out if len(q.split()) > 1]


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Index:
    """The seed, the sample and the untitled sample by two worker processes, then the feed
    updated (an article changed, one removed), then small runs that Whoosh merges: segments
    of every kind the writer makes."""
    tmp = tmp_path_factory.mktemp("forward")
    ix, paths = updated_index(tmp, also=[UNTITLED])
    notes = tmp / "notes"
    notes.mkdir()
    for n, rec in enumerate(_records()[:40]):
        (notes / f"nota-{n}.txt").write_text(rec["text"], encoding="utf-8")
        if n % 8 == 7:
            ix.add_paths([*paths, notes])
    return ix


def _canonical(m: evidence.Matches) -> tuple:
    text = sorted(zip(m.text_doc.tolist(), m.text_pos.tolist(), m.text_word.tolist(),
                      m.text_surface.tolist()))
    title = sorted(zip(m.title_doc.tolist(), m.title_word.tolist(), m.title_surface.tolist()))
    return text, title, m.length.tolist(), m.begins.tolist()


def test_the_forward_index_gives_the_evidence_the_stored_text_gives(index):
    with index.searcher() as s:
        reader = s.reader()
        leaves = reader.leaf_readers()
        assert len(leaves) >= 3 and any(r.has_deletions() for r, _ in leaves)
        columns = columnar.Columns.of(s)
        assert columns is not None
        rng = np.random.default_rng(5)
        compared = surfaced = begun = titled = 0
        for text in _questions():
            try:
                parsed = parse(WhooshBackend(s), text)
            except QueryError:          # stopwords only
                continue
            q = QueryWords.of(parsed.words, parsed.surfaces)
            docs, _ = columns.top(parsed.q_any, 150)
            docs = docs[rng.permutation(len(docs))]      # a pool in any order
            ours = forward.pool_matches(columns, docs, q)
            theirs = evidence.from_text(
                [(d["text"], d.get("title") or "") for d in map(s.stored_fields, docs.tolist())],
                q)
            assert _canonical(ours) == _canonical(theirs), text
            compared += len(ours.text_doc)
            surfaced += int((ours.text_surface >= 0).sum())
            begun += int(ours.begins.sum())
            titled += len(ours.title_doc)
    assert compared > 5000 and surfaced > 3000 and begun > 5000 and titled > 4000


def test_each_paragraph_knows_its_article_in_every_segment(index):
    with index.searcher() as s:
        columns = columnar.Columns.of(s)
        live = np.flatnonzero(columns.live())
        keys = forward.article_keys(columns, live)
        ids = [s.stored_fields(d)["article_id"] for d in live.tolist()]
        assert len(set(zip(keys.tolist(), ids))) == len(set(ids)) == len(set(keys.tolist()))
        sample = live[::37]
        starts, ends = forward.article_spans(columns, sample)
        for docnum, start, end in zip(sample.tolist(), starts.tolist(), ends.tolist()):
            alive = [d for d in range(start, end) if columns.live()[d]]
            article = s.stored_fields(docnum)["article_id"]
            assert alive == [d for d, i in zip(live.tolist(), ids) if i == article]


def test_an_untitled_article_shows_its_first_sentence_without_searching_it(tmp_path):
    ix = Index(tmp_path / "ix")
    ix.add_paths([UNTITLED])
    article = ix.article(_records(UNTITLED)[0]["article_id"])
    assert article.title_derived and article.title
    first = article.paragraphs[0]
    assert first.startswith(article.title.rstrip("…"))
    # a word of the first sentence only: the first paragraph has it, no other paragraph
    # counts it a second time through a title
    words = [w for w in re.findall(r"[^\W\d_]{6,}", article.title)
             if not any(w in p for p in article.paragraphs[1:])]
    assert words
    hits = ix.search(words[0], group=False, limit=50)
    assert [h.paragraph for h in hits if h.article_id == article.article_id] == [0]
    assert all(not h.title_highlights for h in hits if h.article_id == article.article_id)
    assert hits[0].title == article.title
    assert not ix.search(f"titulo:{words[0]}")
    with ix.searcher() as s:
        assert not list(s.reader().lexicon("title"))


def test_plain_words_become_the_queries_whoosh_parses_them_into(sample_index):
    texts = [r["title"] for r in _records()] + _questions() + ["soldados norcoreanos", "Kursk"]
    with sample_index.searcher() as s:
        for text in texts:
            words = words_only(text)
            if re.search(r"\b(AND|OR|NOT|ANDNOT|ANDMAYBE)\b", words):
                continue
            ours = plain_queries(words)
            theirs = (_parser(s.schema, AndGroup).parse(words),
                      _required_first(_parser(s.schema, OrGroup).parse(words)))
            assert ours == theirs, text
    assert plain_queries('"soldados norcoreanos"') is None
    assert plain_queries("Kursk -liberación") is None
    assert plain_queries("Putin AND Kursk") is None
    assert plain_queries("Putin AND Kursk", syntax=False) is not None


def test_each_spelling_knows_how_many_paragraphs_have_it(sample_index):
    """The exact-spelling score's IDF counts paragraphs, as a stem's does: a spelling
    repeated in one paragraph counts once."""
    with sample_index.searcher() as s:
        texts = [s.stored_fields(d)["text"] for d in range(s.doc_count_all())]
        columns = columnar.Columns.of(s)
    counted: dict[str, int] = {}
    for text in texts:
        for spelling in {t[0] for w in re.findall(r"\w+", text) if (t := token(w))}:
            counted[spelling] = counted.get(spelling, 0) + 1
    sample = sorted(counted)[::53] + ["gobierno", "kursk", "méxico", "zzzz"]
    sample = [fold(w) for w in sample]
    assert forward.spelling_frequencies(columns, sample) == [counted.get(w, 0) for w in sample]
    assert max(counted.values()) > 50 and counted["kursk"] == 2


def test_the_forward_index_compares_paragraphs_as_their_text_does(index):
    """Near-duplicate folding reads each paragraph's word pairs from the forward index;
    they are the pairs its text gives when analysed again."""
    with index.searcher() as s:
        columns = columnar.Columns.of(s)
        docs = np.flatnonzero(columns.live())[::7].tolist()
        page = forward.marked_starts(columns, docs, {}, codes=True)
        texts = [s.stored_fields(d)["text"] for d in docs]
    assert len(docs) > 80
    assert page["codes"] == [duplicates.signature(duplicates.text_codes(t)) for t in texts]
