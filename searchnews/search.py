"""Query → ranked hits with highlight spans.

Ranking is BM25F over the paragraph text and its article's title. Paragraphs that match every
word of the query come before those that match only some (a query whose words are not all in
any paragraph still returns the best partial matches). Highlights are character spans into the
stored paragraph, found by running the same analyzer over it, so the surface words that
matched (``COOPERACIÓN``, ``norcoreanos``) are marked whatever their accents or number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from whoosh import query as Q
from whoosh import scoring
from whoosh.qparser import MultifieldParser, OrGroup, AndGroup, plugins
from whoosh.searching import Searcher

from .analysis import WORD_RE, analyzer, fold
from .errors import QueryError

TEXT_FIELDS = ("title", "text")
TITLE_BOOST = 1.5
PROXIMITY_SLOP = 2
PROXIMITY_BOOST = 1.0
# Query-side names users may type before a colon, mapped to index fields.
FIELD_NAMES = {"title": "title", "titulo": "title", "text": "text", "texto": "text"}

_SPANISH = analyzer(stem=True)
WEIGHTING = scoring.BM25F(B=0.75, K1=1.2)


@dataclass
class Hit:
    """One ranked paragraph; the fields and their names are those of the JSON output."""

    rank: int
    score: float
    article_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    paragraph: int
    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    n_paragraphs: int = 0

    def to_dict(self) -> dict:
        """The stable JSON record (see the README): corpus field names plus rank, score, spans."""
        return {"rank": self.rank, "score": round(self.score, 4), "article_id": self.article_id,
                "title": self.title, "date": self.date, "source": self.source, "url": self.url,
                "paragraph": self.paragraph, "text": self.text,
                "highlights": [list(span) for span in self.highlights]}


def _parser(schema, group) -> MultifieldParser:
    parser = MultifieldParser(list(TEXT_FIELDS), schema, fieldboosts={"title": TITLE_BOOST},
                              group=group)
    # '?' and '*' are punctuation in questions ("¿Dónde...?"), not wildcards on a stemmed
    # field; single quotes are apostrophes; ranges and '*:*' mean nothing here.
    for plugin in (plugins.WildcardPlugin, plugins.SingleQuotePlugin, plugins.RangePlugin,
                   plugins.EveryPlugin):
        parser.remove_plugin_class(plugin)
    parser.add_plugin(plugins.FieldAliasPlugin({"title": ["titulo"], "text": ["texto"]}))
    return parser


_FIELD_PREFIX = re.compile(r"(?:^|(?<=[\s(\"-]))([^\W\d_][\w]*):(?!//)")


def check_syntax(text: str) -> None:
    """Refuse queries Whoosh would silently reinterpret, pointing at the problem."""
    if not text.strip():
        raise QueryError("empty query")
    if text.count('"') % 2:
        raise QueryError(f"unbalanced quote in query: {text}")
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            raise QueryError(f"unbalanced ')' at character {i + 1} of query: {text}")
    if depth:
        raise QueryError(f"unbalanced '(' in query: {text}")
    for m in _FIELD_PREFIX.finditer(text):
        if fold(m.group(1)) not in FIELD_NAMES:
            raise QueryError(f"unknown field '{m.group(1)}:' in query (fields: "
                             f"{', '.join(sorted(FIELD_NAMES))})")


def words_only(text: str) -> str:
    """A query reduced to its words: for text from elsewhere (headlines, questions) that may
    hold quotes, dashes or colons meant as punctuation, not as query syntax."""
    return " ".join(WORD_RE.findall(text))


def parse(schema, text: str, syntax: bool = True) -> tuple[Q.Query, Q.Query]:
    """The query as (all words required, any word enough), each with a proximity bonus."""
    if not syntax:
        text = words_only(text)
    check_syntax(text)
    q_any = _parser(schema, OrGroup).parse(text)
    q_all = _parser(schema, AndGroup).parse(text)
    if not any(True for _ in positive_terms(q_any)):
        raise QueryError(f"nothing to search for in query (only stopwords?): {text}")
    bonus = proximity_bonus(q_any)
    if bonus is not None:
        q_all, q_any = Q.AndMaybe(q_all, bonus), Q.AndMaybe(q_any, bonus)
    return q_all, q_any


def proximity_bonus(q: Q.Query) -> Q.Query | None:
    """Optional phrase clauses for each pair of consecutive query words in the paragraph.

    A paragraph that says "cooperación estratégica" is about the query more surely than one
    where both words occur far apart; the bonus rewards words next to each other (slop 2).
    """
    words = [t for f, t in _top_level_terms(q) if f == "text"]
    pairs = [Q.Phrase("text", [a, b], slop=PROXIMITY_SLOP, boost=PROXIMITY_BOOST)
             for a, b in zip(words, words[1:]) if a != b]
    return Q.Or(pairs) if pairs else None


def _top_level_terms(q: Q.Query) -> Iterable[tuple[str, str]]:
    """The plain words the user typed, in order (not phrases, groups or negations)."""
    for clause in (q.children() if isinstance(q, Q.Or) else [q]):
        if isinstance(clause, Q.Term):
            yield clause.fieldname, clause.text
        elif isinstance(clause, Q.Or) and all(isinstance(c, Q.Term) for c in clause.children()):
            # a word searched in several fields: one Term per field
            for c in clause.children():
                yield c.fieldname, c.text


def positive_terms(q: Q.Query) -> Iterable[tuple[str, str]]:
    """(field, term) pairs a hit can match on: negated parts are never highlighted."""
    if isinstance(q, (Q.Not, Q.AndNot)):
        if isinstance(q, Q.AndNot):
            yield from positive_terms(q.a)
        return
    if isinstance(q, Q.Phrase):
        for w in q.words:
            yield q.fieldname, w
        return
    if isinstance(q, Q.Term):
        yield q.fieldname, q.text
        return
    for child in q.children():
        yield from positive_terms(child)


def date_filter(since: str | None, until: str | None) -> Q.Query | None:
    if not since and not until:
        return None
    start = dt.datetime.fromisoformat(since) if since else None
    end = dt.datetime.fromisoformat(until) if until else None
    return Q.DateRange("date", start, end)


def search(searcher: Searcher, text: str, limit: int = 10, since: str | None = None,
           until: str | None = None, sources: Sequence[str] = (), syntax: bool = True
           ) -> list[Hit]:
    """The best ``limit`` paragraphs for a query, all-words matches first.

    ``syntax=False`` takes the query as plain words (no phrases, operators or fields).
    """
    if limit < 1:
        raise QueryError("--limit must be at least 1")
    q_all, q_any = parse(searcher.schema, text, syntax)
    filters = [f for f in (date_filter(since, until),) if f is not None]
    if sources:
        filters.append(Q.Or([Q.Term("source_key", fold(s)) for s in sources]))
    flt = Q.And(filters) if filters else None
    s = searcher
    ranked = [(hit.docnum, hit.score) for hit in s.search(q_all, limit=limit, filter=flt)]
    if len(ranked) < limit and q_all != q_any:
        seen = {d for d, _ in ranked}
        more = s.search(q_any, limit=limit + len(ranked), filter=flt)
        ranked += [(h.docnum, h.score) for h in more if h.docnum not in seen][: limit - len(ranked)]
    wanted: dict[str, set[str]] = {f: set() for f in TEXT_FIELDS}
    for fieldname, term in positive_terms(q_any):
        if fieldname in wanted:
            wanted[fieldname].add(term)
    hits = []
    for rank, (docnum, score) in enumerate(ranked, 1):
        d = s.stored_fields(docnum)
        hits.append(Hit(rank=rank, score=score, article_id=d["article_id"], title=d["title"],
                        date=d.get("date_iso"), source=d.get("source"), url=d.get("url"),
                        paragraph=d["paragraph"], text=d["text"],
                        highlights=spans(d["text"], wanted["text"]),
                        title_highlights=spans(d["title"], wanted["title"]),
                        n_paragraphs=d.get("n_paragraphs", 0)))
    return hits


def spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` whose analyzed term is one of ``terms``."""
    if not terms:
        return []
    return [(t.startchar, t.endchar) for t in _SPANISH(text, chars=True) if t.text in terms]
