"""Stock Whoosh: the reference searchnews is measured against, for speed (bench/) and for
ranking (``searchnews eval --stock``).

Whoosh 2.7's own Spanish analyzer (``LanguageAnalyzer("es")``: lowercase, stopwords, Snowball
stemming, no accent folding), its default BM25F, one writer with default settings, and a query
taken as the OR of its words — what a user of Whoosh gets without searchnews.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.analysis import LanguageAnalyzer
from whoosh.fields import DATETIME, ID, TEXT, Schema
from whoosh.searching import Searcher


def make_schema() -> Schema:
    """Plain schema: id, title and text (stored, Whoosh's Spanish analyzer), date, source."""
    analyzer = LanguageAnalyzer("es")
    return Schema(id=ID(stored=True, unique=True),
                  title=TEXT(analyzer=analyzer, stored=True),
                  text=TEXT(analyzer=analyzer, stored=True),
                  date=DATETIME(stored=True),
                  source=ID(stored=True))


def _document(rec: dict) -> dict:
    """A paragraph record (corpus schema) as a stock document; its id is ``article#paragraph``."""
    doc = {"id": f"{rec['article_id']}#{rec['paragraph']}", "text": rec["text"]}
    if rec.get("title"):
        doc["title"] = rec["title"]
    if rec.get("source"):
        doc["source"] = rec["source"]
    if rec.get("date"):
        doc["date"] = dt.datetime.fromisoformat(rec["date"])
    return doc


def build(records: Iterable[dict], index_dir: Path) -> int:
    """Index paragraph records into a new stock index at ``index_dir``; how many."""
    index_dir.mkdir(parents=True, exist_ok=True)
    writer = whoosh_index.create_in(str(index_dir), make_schema()).writer()
    n = 0
    for rec in records:
        writer.add_document(**_document(rec))
        n += 1
    writer.commit()
    return n


def any_word(searcher: Searcher, text: str, fields: Iterable[str]) -> Q.Query:
    """The OR of the query's words (as the field's analyzer makes them) in every field."""
    return Q.Or([Q.Term(f, token.text) for f in fields
                 for token in searcher.schema[f].analyzer(text)])


def ranked_articles(searcher: Searcher, text: str, fields: Iterable[str], k: int = 10,
                    depth: int = 100) -> list[str]:
    """The first ``k`` distinct articles of the best ``depth`` paragraphs, in rank order."""
    out: list[str] = []
    for hit in searcher.search(any_word(searcher, text, fields), limit=depth):
        article = hit["id"].rsplit("#", 1)[0]
        if article not in out:
            out.append(article)
    return out[:k]
