"""The fast writer and its worker processes build the index Whoosh's own writer builds.

Compared with Whoosh's writer on a schema whose postings keep positions (what an index keeps
in its arrays only), and, for the schema indexes have, Whoosh's postings hold each term's
frequency as the arrays do."""

from __future__ import annotations

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter


import searchnews.engines.whoosh.commits as commits_module
from searchnews.engines.whoosh.commits import WriteSettings
from searchnews import Index
from searchnews.engines.whoosh import columnar

from .conftest import DATA, SEEDS


def _reader(ix: Index):
    return whoosh_index.open_dir(str(ix.current_dir())).reader()


def _content(reader) -> dict:
    """What a user can get out of an index, independent of document numbering: every
    paragraph stored, and every term's paragraphs with their positions."""
    key = {d: (f["article_id"], f["paragraph"]) for d, f in reader.iter_docs()}
    postings = {}
    for field, term in reader.all_terms():
        m = reader.postings(field, term)
        items = m.items_as("positions") if field in ("title", "text") else \
            ((d, None) for d in m.all_ids())
        postings[field, term] = sorted((key[d], v) for d, v in items)
    lengths = {key[d]: (reader.doc_field_length(d, "text"), reader.doc_field_length(d, "title"))
               for d in key}
    stored = {(f["article_id"], f["paragraph"]): f for _, f in reader.iter_docs()}
    return {"stored": stored, "postings": postings, "lengths": lengths}


def test_fast_writer_writes_what_whoosh_writes(tmp_path, monkeypatch):
    ours = Index(tmp_path / "ours", WriteSettings(positions=True))
    ours.add_paths([SEEDS, DATA])

    # the same articles through Whoosh's stock SegmentWriter
    monkeypatch.setattr(commits_module, "BulkWriter", _StockWriter)
    stock = Index(tmp_path / "stock", WriteSettings(positions=True))
    stock.add_paths([SEEDS, DATA])

    a, b = _reader(ours), _reader(stock)
    assert a.doc_count() > 400
    assert _content(a) == _content(b)
    assert _statistics(a) == _statistics(b)
    assert [ours.search(q)[0].article_id for q in ("Kursk", "elecciones presidenciales")] == \
        [stock.search(q)[0].article_id for q in ("Kursk", "elecciones presidenciales")]


def _statistics(reader) -> dict:
    """What scoring reads besides the postings: each term's totals and, block by block of
    its postings, the bounds that let Whoosh skip blocks."""
    out = {}
    for field, term in reader.all_terms():
        ti = reader.term_info(field, term)
        blocks = []
        m = reader.postings(field, term)
        while m.is_active():
            blocks.append((m.block_max_weight(), m.block_min_length(), m.block_max_length()))
            m._next_block()
        out[field, term] = (ti.weight(), ti.doc_frequency(), ti.max_weight(), ti.min_length(),
                            ti.max_length(), ti.min_id(), ti.max_id(), blocks)
    return out


class _StockWriter(SegmentWriter):
    """Whoosh's own writer behind the interface index.py uses."""

    def __init__(self, ix, words=None):
        super().__init__(ix)

    def commit(self, segments=()):
        assert not segments
        super().commit()


def test_worker_processes_index_the_same_paragraphs(tmp_path, monkeypatch):
    serial = Index(tmp_path / "serial", WriteSettings(workers=0, positions=True))
    serial.add_paths([SEEDS, DATA])

    parallel = Index(tmp_path / "parallel",
                     WriteSettings(workers=2, parallel_after=50, positions=True))
    report = parallel.add_paths([SEEDS, DATA])
    assert not report.failed

    segments = list((parallel.current_dir()).glob("*.seg"))
    assert len(segments) == 2            # one per worker: the first paragraphs waited for them
    assert _content(_reader(parallel)) == _content(_reader(serial))
    hits = parallel.search("Kursk")
    assert hits and "Kursk" in hits[0].text
    # and the next run is incremental as ever
    again = parallel.add_paths([SEEDS, DATA])
    assert (again.added, again.updated, again.unchanged) == (0, 0, report.added)


def test_whoosh_postings_count_what_the_arrays_place(tmp_path, monkeypatch):
    """An index's Whoosh postings of title and text keep no positions, only each term's
    frequency, which BM25F reads; the arrays hold the positions, the same as Whoosh's
    postings hold on a schema that keeps them."""
    plain = Index(tmp_path / "plain")
    plain.add_paths([SEEDS, DATA])
    positional = Index(tmp_path / "positional", WriteSettings(positions=True))
    positional.add_paths([SEEDS, DATA])
    a, b = _reader(plain), _reader(positional)
    assert not a.schema["text"].format.supports("positions")
    with plain.searcher() as s:
        columns = columnar.Columns.of(s)
        compared = 0
        for field, term in b.all_terms():
            if field not in ("title", "text"):
                continue
            theirs = list(b.postings(field, term).items_as("positions"))
            weights = _weights(a.postings(field, term))
            assert weights == [float(len(p)) for _, p in theirs]
            docs, tf, starts, poses, _ = columns._postings(field, term, True)
            ours = [poses[s:s + int(n)].tolist() for s, n in zip(starts, tf)]
            assert ours == [list(p) for _, p in theirs] and docs.tolist() == [d for d, _ in theirs]
            compared += 1
    assert compared > 4000 and a.doc_count() == b.doc_count()


def _weights(matcher) -> list[float]:
    """A term's postings' weights, as Whoosh's scorer reads them (``weight()``)."""
    out = []
    while matcher.is_active():
        out.append(matcher.weight())
        matcher.next()
    return out
