"""The backend protocol (searchnews/backend.py), method by method, on both engines.

Every method the pipeline may ask is called on the embedded index and on a Sphinx cluster
holding the same seed and sample, and each answer is checked against the articles
themselves (read with ``read_file``, analysed with searchnews's analyzer), so a backend that
answers wrongly fails here before any ranking moves. The last check holds the list honest:
a protocol method that no check here calls fails the test.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from whoosh import query as Q

from searchnews import duplicates, evidence
from searchnews.analysis import WORD_RE, fold, term, terms
from searchnews.backend import Backend
from searchnews.engines.sphinx.backend import SphinxBackend
from searchnews.engines.whoosh.backend import WhooshBackend
from searchnews.errors import QueryError
from searchnews.evidence import QueryWords
from searchnews.filters import Filter
from searchnews.ranking import rsj_idf

from .test_forward import _canonical
from .test_engines import SAMPLE, SEED_ID, clusters, sphinx_sample, sphinx_url  # noqa: F401

PROTOCOL = sorted(name for name, value in vars(Backend).items()
                  if inspect.isfunction(value) and not name.startswith("_"))
WORD, OTHER = term("gobierno"), term("presidente")     # in many articles, dated or not
PARAGRAPHS = {(a.article_id, i): (a, text) for a in SAMPLE for i, text in enumerate(a.paragraphs)}


class Recorder:
    """The backend, noting which protocol methods were called."""

    def __init__(self, backend) -> None:
        self.backend, self.called = backend, set()

    def __getattr__(self, name: str):
        if name in PROTOCOL:
            self.called.add(name)
        return getattr(self.backend, name)


@pytest.fixture(params=["whoosh", "sphinx"])
def backend(request, sample_index):
    if request.param == "whoosh":
        with sample_index.searcher() as s:
            yield Recorder(WhooshBackend(s, sample_index.vocabulary))
    else:
        yield Recorder(SphinxBackend(request.getfixturevalue("sphinx_sample")))


def _with(stem: str, fieldname: str = "text") -> set[tuple[str, int]]:
    """The sample's paragraphs whose text (or title) has the term."""
    return {key for key, (a, text) in PARAGRAPHS.items()
            if stem in terms(text if fieldname == "text" else a.title if not a.title_derived
                             else "")}


def _places(b, docs) -> list[tuple[str, int]]:
    return [(d["article_id"], d["paragraph"]) for d in b.stored(list(docs))]


def test_every_protocol_method_answers_as_the_articles_say(backend):
    b = backend
    n = sum(len(a.paragraphs) for a in SAMPLE)
    assert b.doc_count() == n and b.doc_count_all() >= n
    assert set(b.source_names()) == {fold(" ".join(a.source.split())) for a in SAMPLE
                                     if a.source}
    assert "gobierno" in b.vocabulary().matching("gobier*")

    found = _with(WORD)
    assert len(found) > 20
    assert b.doc_frequency("text", WORD) == len(found)
    assert b.doc_frequency("title", WORD) == len(_with(WORD, "title"))
    assert b.idf("text", [WORD, OTHER]).tolist() == pytest.approx(
        [rsj_idf(len(found), b.doc_count_all()), rsj_idf(len(_with(OTHER)), b.doc_count_all())])
    frequencies = b.spelling_frequencies(["gobierno"])
    assert frequencies is None or frequencies == [sum(
        "gobierno" in terms(text, stem=False) for _, text in PARAGRAPHS.values())]

    q = Q.Term("text", WORD)
    docs, scores = b.candidates(q, 1000, Filter())
    assert set(_places(b, docs)) == found and len(docs) == len(found)
    assert (np.diff(scores) <= 1e-9).all()                       # best first
    newest, _ = b.candidates(q, 1000, Filter(dated=True), by_date=True)
    dates = [d.get("date_iso") for d in b.stored(newest.tolist())]
    assert None not in dates and dates == sorted(dates, reverse=True)
    undated, _ = b.candidates(q, 1000, Filter(dated=False))
    assert all(d.get("date_iso") is None for d in b.stored(undated.tolist()))
    assert len(newest) + len(undated) == len(found)
    since = Filter.of(since=max(dates)[:7])
    assert {d["date_iso"][:7] for d in b.stored(b.candidates(q, 1000, since)[0].tolist())} \
        == {max(dates)[:7]}
    others, _ = b.candidates(q, 1000, Filter(exclude_article=SEED_ID))
    assert set(_places(b, others)) == {k for k in found if k[0] != SEED_ID}

    keys = b.article_keys(docs).tolist()
    articles = [a for a, _ in _places(b, docs)]
    assert all((keys[i] == keys[j]) == (articles[i] == articles[j])
               for i in range(len(docs)) for j in range(len(docs)))

    for d, (article_id, paragraph) in zip(b.stored(docs.tolist()), _places(b, docs)):
        assert d["text"] == PARAGRAPHS[(article_id, paragraph)][1]

    words = QueryWords.of([WORD, OTHER], frozenset({"gobierno", "presidente"}))
    stored = b.stored(docs.tolist())
    assert _canonical(b.evidence(docs, words)) == _canonical(evidence.from_text(
        [(d["text"], d.get("title") or "") for d in stored], words))

    page = b.page(docs.tolist(), {"text": (frozenset({WORD}), frozenset()),
                                  "title": (frozenset({WORD}), frozenset())}, codes=True)
    for d, starts, title_starts, code in zip(stored, page["text"], page["title"],
                                             page["codes"]):
        marked = [WORD_RE.match(d["text"], s).group() for s in starts]
        assert marked and all(term(w) == WORD for w in marked)
        assert len(marked) == sum(term(w) == WORD for w in WORD_RE.findall(d["text"]))
        assert all(term(WORD_RE.match(d["title"], s).group()) == WORD for s in title_starts)
        assert code == duplicates.signature(duplicates.text_codes(d["text"]))

    matches = b.article_matches(q, docs.tolist(), scored=True)
    for (article_id, _), hits in zip(_places(b, docs), matches):
        assert set(_places(b, [doc for _, doc in hits])) == {k for k in found
                                                             if k[0] == article_id}

    key_terms = b.key_terms(SEED_ID, 5)
    seed_terms = set(terms("\n".join(PARAGRAPHS[(SEED_ID, 0)][0].paragraphs)))
    assert len(key_terms) == 5 and {t for t, _ in key_terms} <= seed_terms
    assert [w for _, w in key_terms] == sorted((w for _, w in key_terms), reverse=True)
    with pytest.raises(QueryError, match="no article 'nope'"):
        b.key_terms("nope", 5)

    assert all(isinstance(line, str) for line in b.describe(q, Q.Or([q])))
    assert sorted(b.called) == PROTOCOL                  # no method left unasked


def test_both_engines_answer_alike(sample_index, sphinx_sample):
    """Paragraph for paragraph, the two backends find and mark the same words."""
    with sample_index.searcher() as s:
        engines = [WhooshBackend(s, sample_index.vocabulary), SphinxBackend(sphinx_sample)]
        q = Q.And([Q.Term("text", OTHER), Q.Or([Q.Term("text", WORD),
                                                 Q.Term("title", WORD)])])
        answers = []
        for b in engines:
            docs, _ = b.candidates(q, 1000, Filter.of(since="2000"))
            places = _places(b, docs)
            marks = b.page(docs.tolist(), {"text": (frozenset({OTHER}), frozenset()),
                                           "title": (frozenset({WORD}), frozenset())})
            answers.append(sorted(zip(places, marks["text"], marks["title"])))
        assert answers[0] and answers[0] == answers[1]


def test_the_sphinx_backend_declares_what_it_cannot_do(sphinx_sample):
    assert SphinxBackend.capabilities == frozenset()
    with pytest.raises(QueryError, match=r"fuzzy terms \(word~\) need the embedded engine"):
        sphinx_sample.search("Kursk~")
    assert sphinx_sample.search("Kurks").suggestion is None      # no "did you mean"


