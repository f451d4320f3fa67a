"""The fields of a paragraph document, which both engines index and queries are parsed
against (a Whoosh :class:`~whoosh.fields.Schema`: its analyzers are searchnews's own)."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.formats import Existence

from .analysis import analyzer


def make_schema(positions: bool = False) -> Schema:
    """One document per paragraph, carrying its article's metadata.

    ``title`` and ``text`` are stemmed for ranking. Their postings in Whoosh's files keep
    the term frequency only (positions=False): the positions — what phrases and re-ranking
    read — are in each segment's arrays (columnar.py), and writing them a second time was
    a third of what indexing cost. ``positions=True`` keeps them in Whoosh's too (tests
    compare the arrays' answers with Whoosh's own). ``source`` indexes the outlet's whole
    folded name (``el pais``): ``--source`` and ``fuente:`` match against it. Prefix and
    fuzzy words are expanded through the vocabulary sidecar (vocabulary.py), not a field.
    """
    spanish = analyzer(stem=True)
    title, text = (TEXT(analyzer=spanish, stored=True) for _ in range(2))
    if not positions:
        title.format, text.format = Existence(), Existence()
    return Schema(
        article_id=ID(stored=True, sortable=True),   # a column: grouping by article reads it
        paragraph=STORED(),
        n_paragraphs=STORED(),
        title=title,
        derived_title=STORED(),                      # shown for an untitled article
        text=text,
        date=DATETIME(sortable=True),
        date_iso=STORED(),
        source=ID(),
        source_name=STORED(),
        url=STORED(),
    )
