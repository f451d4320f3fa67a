"""Query → ranked hits with highlight spans.

Ranking is BM25F over the paragraph text and its article's title. Paragraphs that match every
word of the query come before those that match only some (a query whose words are not all in
any paragraph still returns the best partial matches), and query words standing close together
earn a bonus. Results are grouped by article (its best paragraph, and how many more matched)
and near-identical paragraphs — the same wire story in several outlets — are folded into one
hit that lists where else it appeared.

Highlights are character spans into the stored paragraph, read from the forward index
(highlight.py), so the surface words that matched (``COOPERACIÓN``, ``norcoreanos``) are marked
whatever their accents or number. Prefix (``cooperaci*``) and fuzzy (``Pyongyng~``) words are
expanded through the vocabulary of indexed words (vocabulary.py) into the stems they stand for,
because stemming a fragment or a typo makes it match nothing.
"""

from __future__ import annotations

import calendar
import functools
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
from whoosh import query as Q
from whoosh.classify import Bo1Model, Expander
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup, plugins, syntax
from whoosh.searching import Searcher
from whoosh.util.times import datetime_to_long

from . import columnar, duplicates, evidence, forward
from .analysis import WORD_RE, fold, term, terms
from .evidence import QueryWords
from .highlight import Highlighter, spans_at
from .records import Hit, Results
from .ranking import BM25F, rerank, spelling_idf
from .vocabulary import Vocabulary
from .errors import NothingToSearch, QueryError

TEXT_FIELDS = ("title", "text")
# The title's weight against the text in BM25F: equal. 1.5 gained 0.0003 MRR@10 on squad-es,
# whose titles name each Wikipedia article, and lost 0.003 on squad-es among news paragraphs
# (as paragraphs and as whole articles), whose titles say less about each paragraph.
TITLE_BOOST = 1.0
POOL = 400                 # BM25F candidates of a query re-ranked (ranking.rerank)
DEDUP_SPARE = 5            # hits fetched beyond the page, to replace folded duplicates
REFILL = 64                # at most this many pages' worth looked at to fill one
MAX_EXPANSION = 1024       # words a query's wildcards may stand for (Lucene's clause limit)
MAX_EDITS = 2              # a fuzzy word's edits: beyond two, most words are near any word
SIMILAR_TERMS = 20          # distinctive terms of an article that "similar" searches for
WEIGHTING = BM25F(B=0.75, K1=1.2)

# What users may type before a colon (Spanish and English), and the index field it means.
FIELD_NAMES = {"title": "title", "titulo": "title", "text": "text", "texto": "text",
               "source": "source", "fuente": "source"}


# -- parsing ---------------------------------------------------------------------------------

class _StarPlugin(plugins.WildcardPlugin):
    """``*`` is a wildcard, and ``?`` between two letters of a word (``co?peracion``); a
    ``?`` that ends or begins a word stays punctuation ("¿Dónde...?")."""

    expr = r"(?P<text>\*|(?<=\w)\?(?=\w))"


WORDS = "words"   # pseudo-field of prefix/fuzzy words until the vocabulary expands them


class _WordsFieldPlugin(plugins.Plugin):
    """Mark prefix, wildcard and fuzzy words (pseudo-field ``words``): the parser leaves
    their text as typed, and :func:`_expand_words` replaces them with indexed stems."""

    def filters(self, parser):
        return [(self._redirect, 105)]   # after fields are read, before the multifield split

    def _redirect(self, parser, group):
        for node in group:
            if isinstance(node, syntax.GroupNode):
                self._redirect(parser, node)
            elif isinstance(node, (plugins.WildcardPlugin.WildcardNode,
                                   plugins.PrefixPlugin.PrefixNode,
                                   plugins.FuzzyTermPlugin.FuzzyTermNode)) \
                    and node.fieldname in (None, "title", "text"):
                node.set_fieldname(WORDS, override=True)
        return group


def _parser(schema, group) -> MultifieldParser:
    parser = MultifieldParser(list(TEXT_FIELDS), schema, fieldboosts={"title": TITLE_BOOST},
                              group=group)
    # single quotes are apostrophes; ranges and '*:*' mean nothing here
    for plugin in (plugins.WildcardPlugin, plugins.SingleQuotePlugin, plugins.RangePlugin,
                   plugins.EveryPlugin):
        parser.remove_plugin_class(plugin)
    parser.add_plugin(_StarPlugin())
    parser.add_plugin(plugins.FuzzyTermPlugin())
    parser.add_plugin(plugins.PlusMinusPlugin())
    parser.add_plugin(plugins.FieldAliasPlugin(
        {"title": ["titulo"], "text": ["texto"], "source": ["fuente"]}))
    parser.add_plugin(_WordsFieldPlugin())
    return parser


_FIELD_PREFIX = re.compile(r"(?:^|(?<=[\s(\"+-]))([^\W\d_][\w]*):(?!//)")
_OPERATOR = re.compile(r"^(AND|OR|NOT|ANDNOT|ANDMAYBE)$")


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
        if fold(m.group(1)) not in FIELD_NAMES and not _punctuation(text, m):
            raise QueryError(f"unknown field '{m.group(1)}:' in query (fields: "
                             f"{', '.join(sorted(FIELD_NAMES))})")
        if _punctuation(text, m) and fold(m.group(1)) in FIELD_NAMES:
            raise QueryError(f"'{m.group(1)}:' needs a word or a quoted phrase right after "
                             f"it, with no space (e.g. {m.group(1)}:Kursk) in query: {text}")
    phrases_as_words = re.sub(r'"[^"]*"', " phrase ", text)    # a phrase is an operand too
    tokens = phrases_as_words.replace("(", " ( ").replace(")", " ) ").split()
    for i, tok in enumerate(tokens):
        if not _OPERATOR.match(tok):
            continue
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if after is None or after == ")" or _OPERATOR.match(after):
            raise QueryError(f"'{tok}' needs a word after it in query: {text}")
        if tok != "NOT" and (before is None or before == "(" or _OPERATOR.match(before)):
            raise QueryError(f"'{tok}' needs a word before it in query: {text}")


def _punctuation(text: str, m: re.Match) -> bool:
    """Whether the colon after a word is punctuation (``AMLO: corrupción``, a headline):
    a field is ``name:value``, with nothing between the colon and its value."""
    return m.end() == len(text) or text[m.end()].isspace()


def without_punctuation_colons(text: str) -> str:
    """The query with the colons that end a word and are followed by a space dropped, so
    the parser does not read the word before them as a field name."""
    return _FIELD_PREFIX.sub(lambda m: m.group(1) + ("" if _punctuation(text, m) else ":"),
                             text)


def words_only(text: str) -> str:
    """A query reduced to its words: for text from elsewhere (headlines, questions) that may
    hold quotes, dashes or colons meant as punctuation, not as query syntax."""
    return " ".join(WORD_RE.findall(text))


@dataclass
class ParsedQuery:
    """A query ready to run: all words required, or any word enough; the plain words (as
    text-field terms, in the order typed) that the proximity bonus looks at; and the indexed
    words that prefix and fuzzy words expanded to (to highlight them)."""

    text: str
    q_all: Q.Query
    q_any: Q.Query
    words: list[str]
    expanded: set[str] = field(default_factory=set)
    surfaces: frozenset[str] = frozenset()     # the query's plain words, folded


def parse(searcher: Searcher, text: str, syntax: bool = True,
          vocabulary: Callable[[], Vocabulary] | None = None) -> ParsedQuery:
    """Parse a user query (``syntax=False``: plain words). ``vocabulary`` (loaded only if the
    query has prefix or fuzzy words) expands those; ``fuente:`` words match outlet names."""
    if not syntax:
        text = words_only(text)
    expanded: set[str] = set()
    plain = plain_queries(text, syntax)
    if plain is not None:
        if not text.strip():
            raise QueryError("empty query")
        q_all, q_any = plain
    else:
        check_syntax(text)
        text = without_punctuation_colons(text)
        rewrite = functools.partial(_rewrite, searcher=searcher, vocabulary=vocabulary,
                                    expanded=expanded)
        try:
            q_any = _required_first(rewrite(_parser(searcher.schema, OrGroup).parse(text)))
            q_all = rewrite(_parser(searcher.schema, AndGroup).parse(text))
        except (NotImplementedError, Q.QueryError) as exc:   # what Whoosh's parser leaves
            sign = {"Minus": "-", "Plus": "+"}.get(str(exc))
            raise QueryError(f"'{sign}' needs a word right after it in query: {text}" if sign
                             else f"cannot read query ({exc}): {text}") from None
    if not any(True for _ in positive_terms(q_any)) and not expanded:
        raise _nothing_to_search(text, q_any)
    top = q_any.subqueries[0] if isinstance(q_any, Q.And) else q_any
    words = [t for f, t in _top_level_terms(top) if f == "text"]
    surfaces = frozenset(fold(m.group()) for m in _plain_words(text))
    return ParsedQuery(text, q_all, q_any, words, expanded, surfaces)


def _nothing_to_search(text: str, q: Q.Query) -> QueryError:
    """Why a query has no word to look up: an error when it only excludes; a query that
    finds nothing (:class:`NothingToSearch`) when its words are stopwords or its patterns
    match no indexed word."""
    if _excludes(q):
        return QueryError(f"nothing to find in query: NOT only excludes; add a word to "
                          f"search for (e.g. Putin NOT Kursk): {text}")
    patterns = [m.group() for m in _WILDCARD_WORD.finditer(text)] + \
        re.findall(r"\w+~\d*", text)
    if patterns:
        return NothingToSearch(f"no indexed word matches {', '.join(patterns)}")
    return NothingToSearch("only stopwords, words too common to be indexed: nothing to "
                           "search for")


def _excludes(q: Q.Query) -> bool:
    """Whether a query holds a NOT (or ``-word``) anywhere."""
    return isinstance(q, (Q.Not, Q.AndNot)) or any(_excludes(c) for c in q.children())


def plain_queries(text: str, syntax: bool = True) -> tuple[Q.Query, Q.Query] | None:
    """(all words, any word) of a query of plain words, built directly — the queries
    Whoosh's parser makes of them (a test compares), without the half millisecond it takes
    per query; None when the query has syntax. With ``syntax=False`` every word is plain,
    AND, OR and NOT included."""
    words = text.split()
    if syntax and not all(WORD_RE.fullmatch(w) and not _OPERATOR.match(w) for w in words):
        return None
    stems = [t for t in dict.fromkeys(term(w) for w in words) if t]
    if not stems:
        return Q.NullQuery, Q.NullQuery
    fields = [[Q.Term("title", t, boost=TITLE_BOOST), Q.Term("text", t)] for t in stems]
    # as Whoosh's normalize() leaves them: one word's fields, the OR of all fields
    every = Q.Or(fields[0]) if len(stems) == 1 else Q.And([Q.Or(f) for f in fields])
    return every, Q.Or([t for f in fields for t in f])


def _rewrite(q: Q.Query, searcher: Searcher, vocabulary, expanded: set[str]) -> Q.Query:
    """Expand prefix/fuzzy words through the vocabulary and outlet words to outlet names."""
    if isinstance(q, Q.Every) and q.fieldname == WORDS:       # a lone '*' (Whoosh: anything)
        raise QueryError("'*': a wildcard needs letters to match")
    if isinstance(q, (Q.PatternQuery, Q.FuzzyTerm, Q.Every)) and q.fieldname == "source":
        raise QueryError("fuente: takes words or a quoted phrase of the outlet's name, "
                         "not a wildcard or a fuzzy word")
    if isinstance(q, (Q.PatternQuery, Q.FuzzyTerm)) and q.fieldname == WORDS:
        vocab = vocabulary() if vocabulary else Vocabulary()
        folded = fold(q.text)
        if isinstance(q, Q.FuzzyTerm):
            if not 1 <= q.maxdist <= MAX_EDITS:
                raise QueryError(f"'{q.text}~{q.maxdist}': a fuzzy word allows 1 or "
                                 f"{MAX_EDITS} edits ({q.text}~ is 1)")
            found = vocab.near(folded, q.maxdist, q.prefixlength) + \
                ([folded] if folded in vocab else [])
        else:
            pattern = folded + ("*" if isinstance(q, Q.Prefix) else "")
            if not re.search(r"[^*?]", pattern):
                raise QueryError(f"'{pattern}': a wildcard needs letters to match")
            found = vocab.matching(pattern)
            if len(found) > MAX_EXPANSION:
                raise QueryError(f"'{pattern}' matches {len(found):,} indexed words, more "
                                 f"than {MAX_EXPANSION:,}: give it more letters")
        expanded.update(found)
        if len(expanded) > MAX_EXPANSION:       # the budget is the query's, not each word's
            raise QueryError(f"the query's wildcard and fuzzy words stand for more than "
                             f"{MAX_EXPANSION:,} indexed words: give them more letters")
        stems = sorted({t for t in (term(w) for w in found) if t})
        return Q.Or([Q.Term(f, s, boost=TITLE_BOOST if f == "title" else 1.0)
                     for s in stems for f in TEXT_FIELDS]) if stems else Q.NullQuery
    if isinstance(q, (Q.Term, Q.Phrase)) and q.fieldname == "source":
        wanted = " ".join(fold(w) for w in WORD_RE.findall(
            " ".join(q.words) if isinstance(q, Q.Phrase) else q.text))
        names = [t.decode() for t in searcher.reader().lexicon("source")]
        hits = [n for n in names if f" {wanted} " in f" {n} "]
        return Q.Or([Q.Term("source", n) for n in hits]) if hits else Q.NullQuery
    if q.is_leaf():
        return q
    return q.apply(functools.partial(_rewrite, searcher=searcher, vocabulary=vocabulary,
                                     expanded=expanded))


def _required_first(q: Q.Query) -> Q.Query:
    """In an any-word query, ``NOT x`` and ``fuente:x`` still bind every hit: Whoosh would
    read ``Kursk NOT liberación`` as "Kursk, or anything without liberación"."""
    if not isinstance(q, Q.Or):
        return q
    required = [c for c in q.children() if isinstance(c, Q.Not) or _on_field(c, "source")]
    rest = [c for c in q.children() if not any(c is r for r in required)]
    if not required or not rest:
        return q
    return Q.And([Q.Or(rest) if len(rest) > 1 else rest[0], *required])


def _on_field(q: Q.Query, fieldname: str) -> bool:
    fields = {f for f, _ in q.iter_all_terms()} if q.is_leaf() or q.children() else set()
    return fields == {fieldname}


def _top_level_terms(q: Q.Query) -> Iterable[tuple[str, str]]:
    """The plain words the user typed, in order (not phrases, groups or negations)."""
    for clause in (q.children() if isinstance(q, Q.Or) else [q]):
        if isinstance(clause, Q.Term):
            yield clause.fieldname, clause.text
        elif isinstance(clause, Q.Or) and all(isinstance(c, Q.Term) for c in clause.children()):
            for c in clause.children():            # a word searched in several fields
                yield c.fieldname, c.text


def positive_terms(q: Q.Query) -> Iterable[tuple[str, str]]:
    """(field, term) pairs a hit can match on: negated parts are never highlighted.
    Prefix and fuzzy words come as their query object, to be expanded against the index."""
    if isinstance(q, Q.Not):
        return
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
    if isinstance(q, (Q.PatternQuery, Q.FuzzyTerm)):
        yield q.fieldname, q
        return
    for child in q.children():
        yield from positive_terms(child)


def parse_day(value: str, end: bool = False) -> dt.datetime:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the first (or, with ``end``, last) day."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value.strip())
    if not m:
        raise QueryError(f"invalid date '{value}' (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if month is None:
            return dt.datetime(year, 12, 31) if end else dt.datetime(year, 1, 1)
        if day is None:
            last = calendar.monthrange(year, int(month))[1]
            return dt.datetime(year, int(month), last if end else 1)
        return dt.datetime(year, int(month), int(day))
    except ValueError as exc:
        raise QueryError(f"invalid date '{value}': {exc}") from None


def make_filter(since: str | None = None, until: str | None = None,
                sources: Sequence[str] = ()) -> Q.Query | None:
    """The date range and sources a hit must have (dates inclusive at both ends)."""
    parts: list[Q.Query] = []
    if since or until:
        start = parse_day(since) if since else None
        stop = parse_day(until, end=True) if until else None
        if start and stop and start > stop:
            raise QueryError(f"--since {since} is after --until {until}")
        parts.append(Q.DateRange("date", start, stop))
    if sources:
        parts.append(Q.Or([Q.Term("source", fold(" ".join(s.split()))) for s in sources]))
    return Q.And(parts) if len(parts) > 1 else (parts[0] if parts else None)


def filter_docs(searcher: Searcher, since: str | None = None, until: str | None = None,
                sources: Sequence[str] = ()) -> np.ndarray | None:
    """The documents a hit may come from, as sorted docnums (None: all).

    Whoosh's DateRange filter walks the postings of every date in the range on each query
    (140 ms at 100k paragraphs); here the date column is read and sorted once per searcher,
    and a range is two binary searches and a slice.
    """
    docs: np.ndarray | None = None
    if since or until:
        if since and until and parse_day(since) > parse_day(until, end=True):
            raise QueryError(f"--since {since} is after --until {until}")
        keys, order = _date_order(searcher)
        lo = np.searchsorted(keys, datetime_to_long(parse_day(since)), "left") if since else 0
        hi = np.searchsorted(keys, datetime_to_long(parse_day(until, end=True)), "right") \
            if until else len(keys)
        docs = np.sort(order[lo:hi])
    if sources:
        found = np.fromiter(sorted(searcher.docs_for_query(make_filter(sources=sources))),
                            np.int64)
        docs = found if docs is None else np.intersect1d(docs, found, assume_unique=True)
    return docs


def _date_values(searcher: Searcher) -> np.ndarray:
    """Each document's date as the date column holds it (_NO_DATE: undated), cached on the
    searcher (a refreshed searcher after a commit is a new object, so it never goes stale)."""
    cached = getattr(searcher, "_searchnews_date_values", None)
    if cached is None:
        leaves = searcher.reader().leaf_readers()
        cached = searcher._searchnews_date_values = np.concatenate(
            [columnar.column_values(r, "date", _NO_DATE) for r, _ in leaves])
    return cached


def _date_order(searcher: Searcher) -> tuple[np.ndarray, np.ndarray]:
    """(dates, docnums) of the dated documents sorted by date, cached on the searcher."""
    cached = getattr(searcher, "_searchnews_dates", None)
    if cached is None:
        values = _date_values(searcher)
        dated = np.flatnonzero(values != _NO_DATE)
        order = dated[np.argsort(values[dated], kind="stable")]
        cached = searcher._searchnews_dates = (values[order], order)
    return cached


_NO_DATE = 2 ** 64 - 1   # what the date column holds for an undated paragraph


# -- searching -------------------------------------------------------------------------------

def search(searcher: Searcher, text: str, limit: int = 10, since: str | None = None,
           until: str | None = None, sources: Sequence[str] = (), sort: str = "relevance",
           group: bool = True, dedup: bool = True, syntax: bool = True,
           more: int = 0, vocabulary: Callable[[], Vocabulary] | None = None) -> Results:
    """The best ``limit`` hits for a query: all-words matches first, grouped by article
    (``group``), near-identical paragraphs folded together (``dedup``).

    ``sort="date"`` lists matches newest first instead (their score is then None);
    ``syntax=False`` takes the query as plain words (no phrases, operators or fields);
    ``more`` attaches up to that many other matching paragraphs of each article to its hit.
    """
    if limit < 1:
        raise QueryError("--limit must be at least 1")
    if sort not in ("relevance", "date"):
        raise QueryError(f"unknown sort '{sort}' (relevance or date)")
    if not searcher.doc_count():          # nothing indexed yet, or every article removed
        return Results.nothing("the index holds no paragraphs")
    try:
        typed = parse(searcher, text, syntax, vocabulary)
    except NothingToSearch as exc:
        return Results.nothing(str(exc))
    unknown = vocabulary is not None and _has_unknown_word(searcher, typed)
    parsed, suggestion = with_corrections(searcher, typed, syntax, vocabulary, unknown)
    flt = filter_docs(searcher, since, until, sources)
    marked = _marked_terms(parsed)
    want = limit + DEDUP_SPARE if dedup else limit    # dedup may fold some candidates away
    ranked = _ranking(searcher, parsed, want, flt, group, sort, bool(since or until))
    seen: dict[int, tuple] = {}
    while True:
        hits = _hits(searcher, ranked[:want], marked, dedup, limit, seen)
        # the same story printed many times folds a page away: look deeper for the rest,
        # as much deeper as the folding so far says it takes (a ranking holds more than
        # was asked when its pool had more: those are taken first, in the same order)
        if len(hits) >= limit or len(ranked) < want or want >= limit * REFILL:
            break
        need = want * limit * 3 // (2 * max(len(hits), 1))    # at the rate seen, and half
        want = min(limit * REFILL, max(want * 2, need))
        if len(ranked) < want:
            ranked = _ranking(searcher, parsed, want, flt, group, sort, bool(since or until))
    if group and hits:
        _attach_others(searcher, parsed.q_any, hits, more, marked)
    if suggestion and hits:
        hits.suggestion = suggestion
    elif vocabulary and (len(hits) < min(3, limit) or unknown):
        hits.suggestion = suggest(searcher, vocabulary(), typed.text, rare=0 if hits else 2)
    return hits


def _ranking(searcher: Searcher, parsed: ParsedQuery, want: int, flt: np.ndarray | None,
             group: bool, sort: str, dated_only: bool) -> list[tuple[int, float | None]]:
    """The best ``want`` (docnum, score) — or more, when the relevance ranking's pool holds
    more — by relevance or newest first: then the undated come after the dated (in
    relevance order) unless a date range was asked for, and scores are None."""
    if sort != "date":
        return _relevance(searcher, parsed, want, flt, group)
    tiers = [parsed.q_all, parsed.q_any]
    dated = _date_order(searcher)[1]
    ranked = _ranked(searcher, tiers, want,
                     {"filter": dated if flt is None else np.intersect1d(dated, flt),
                      "sortedby": "date", "reverse": True},
                     group, first_tier_only=True)
    if len(ranked) < want and not dated_only:
        undated = {"mask": dated} if flt is None else {"filter": np.setdiff1d(flt, dated)}
        ranked += _ranked(searcher, tiers, want - len(ranked), undated, group,
                          first_tier_only=True)
    return [(docnum, None) for docnum, _ in ranked]


def with_corrections(searcher: Searcher, parsed: ParsedQuery, syntax: bool,
                     vocabulary: Callable[[], Vocabulary] | None, unknown: bool
                     ) -> tuple[ParsedQuery, str | None]:
    """The query to rank with, and the "did you mean" it used (None if none): in a query of
    several words, a word found in no paragraph (a typo, another spelling of a name) can only
    match through its suggested word, so that word is searched too, as one more optional
    word. The word as typed stays, so no paragraph counts as having every word, and the user
    still sees the suggestion; a query of one unknown word is left alone (it finds nothing
    and says "did you mean"). ``unknown``: whether the query has such a word."""
    if vocabulary is None or len(parsed.words) < 2 or not unknown:
        return parsed, None
    fixed = suggest(searcher, vocabulary(), parsed.text)
    typed = set(WORD_RE.findall(parsed.text))
    extra = [w for w in WORD_RE.findall(fixed or "") if w not in typed]
    if not extra:
        return parsed, fixed
    return parse(searcher, parsed.text + " " + " ".join(extra), syntax, vocabulary), fixed


def similar(searcher: Searcher, article_id: str, limit: int = 10) -> Results:
    """Articles about the same thing (more like this): the article's most distinctive terms
    (Whoosh's Bo1 key terms over all its text) as a weighted OR query, the article itself
    left out, grouped by article and deduplicated like a query."""
    docs = list(searcher.documents(article_id=article_id))
    if not docs:
        raise QueryError(f"no article '{article_id}' in the index")
    text = "\n".join([docs[0].get("title") or ""] + [d["text"] for d in docs])
    # Whoosh's key_terms_from_text, fed the terms' frequencies (the field's postings keep
    # none for Whoosh to count again)
    expander = Expander(searcher.reader(), "text", model=Bo1Model)
    expander.add(Counter(terms(text)).items())
    keys = expander.expanded_terms(SIMILAR_TERMS)
    if not keys:
        return Results()
    q = Q.Or([Q.Term("text", t, boost=w) for t, w in keys])
    own = np.fromiter(searcher.reader().postings("article_id", article_id).all_ids(), np.int64)
    ranked = _ranked(searcher, [q], limit * 2 + 5, {"mask": own}, group=True)
    stems = {t for t, _ in keys}
    return _hits(searcher, ranked, {"title": stems, "text": stems, WORDS: set()}, True, limit)


def _relevance(searcher: Searcher, parsed: ParsedQuery, want: int, flt: np.ndarray | None,
               group: bool) -> list[tuple[int, float]]:
    """The embedded engine's side of :func:`relevance_order`: candidates from the postings
    arrays (or Whoosh), their evidence from the forward index (or the stored text), which
    also tells in how many paragraphs each typed spelling is."""
    q = QueryWords.of(parsed.words, parsed.surfaces)
    options = {"filter": flt} if flt is not None else {}
    columns = columnar.Columns.of(searcher)
    rescore = None
    if q.pairs:
        idf = np.array([(columns or searcher).idf("text", w) for w in q.words])
        frequencies = forward.spelling_frequencies(columns, q.surfaces) if columns else None
        if columns is not None:
            matches = functools.partial(forward.pool_matches, columns, q=q)
        else:
            matches = lambda docs: evidence.from_text(      # noqa: E731
                [_searched_fields(searcher.stored_fields(d)) for d in docs.tolist()], q)
        rescore = rescorer(q, idf, spelling_idf(q, idf, frequencies, searcher.doc_count_all()),
                           matches)
    return relevance_order(parsed, lambda query, limit: _fetch(searcher, query, limit, options),
                           _article_keys(searcher) if group else None, rescore, want)


def rescorer(q: QueryWords, idf: np.ndarray, surface_idf: np.ndarray,
             matches: Callable[[np.ndarray], evidence.Matches]
             ) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """``relevance_order``'s re-scoring of a pool (docnums, BM25F scores, tiers), whatever the
    engine: ``matches`` gives the candidates' evidence, :func:`ranking.rerank` the scores."""
    return lambda docs, scores, tiers: rerank(scores, matches(docs), q, idf, surface_idf, tiers)


def _searched_fields(stored: dict) -> tuple[str, str]:
    """A paragraph's (text, title) as indexed: a title derived from the text is not."""
    return stored["text"], stored.get("title") or ""


def relevance_order(parsed: ParsedQuery,
                    fetch: Callable[[Q.Query, int], tuple[np.ndarray, np.ndarray]],
                    article_keys: Callable[[np.ndarray], np.ndarray] | None,
                    rescore: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None,
                    want: int) -> list[tuple[int, float]]:
    """(docnum, score) best first, whatever the engine: paragraphs with every query word,
    then those with some; the best POOL candidates (``fetch``: docnums and BM25F scores,
    best first), all-words matches first, re-scored together by ``rescore`` (docnums,
    scores, tier of each;
    :func:`searchnews.ranking.rerank`; None: a query of one word keeps BM25F's order); with
    ``article_keys`` (docnums → a number per article), only the best paragraph per article.
    The any-word tier is fetched only when the first has too few articles. At least
    ``want`` when there are: the whole re-ranked pool, which a deeper look takes first."""
    tiers = [parsed.q_all] + ([parsed.q_any] if parsed.q_any != parsed.q_all else [])
    # re-ranking needs a pool deeper than the page; for a long question the partial
    # matches of the second tier are most of it
    depth = max(POOL if rescore is not None else 0, want * 2)
    complete: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # tiers that fell short
    while True:
        pools: list[tuple[np.ndarray, np.ndarray]] = []
        keys: list[np.ndarray] = []
        taken = np.empty(0, np.int64)
        exhausted = True
        for i, tier in enumerate(tiers):
            docs, scores = complete[i] if i in complete else fetch(tier, depth)
            if len(docs) < depth:       # a deeper look would find nothing more
                complete[i] = (docs, scores)
            exhausted = exhausted and len(docs) < depth
            if len(taken):
                fresh = ~np.isin(docs, taken)
                # one pool per query: the any-word matches fill what the all-words left
                room = max(depth - len(taken), want * 2)
                docs, scores = docs[fresh][:room], scores[fresh][:room]
            pools.append((docs, scores))
            taken = np.concatenate([taken, docs])
            # the articles a tier's pool holds do not depend on the order re-ranking gives
            if article_keys is not None:
                keys.append(article_keys(docs))
            if len(np.unique(np.concatenate(keys)) if keys else taken) >= want:
                break
        docs, scores = taken, np.concatenate([s for _, s in pools])
        tier_of = np.repeat(np.arange(len(pools)), [len(d) for d, _ in pools])
        if rescore is not None and len(docs):
            scores = rescore(docs, scores, tier_of)
        order, start = [], 0
        for d, _ in pools:               # each tier after the one before; ties keep BM25F's
            order.append(start + np.argsort(-scores[start:start + len(d)], kind="stable"))
            start += len(d)
        order = np.concatenate(order)
        docs, scores = docs[order], scores[order]
        if keys and len(docs):
            first = np.sort(np.unique(np.concatenate(keys)[order], return_index=True)[1])
            docs, scores = docs[first], scores[first]
        # one article may fill many places: look deeper until enough articles are found
        if len(docs) >= want or exhausted:
            return list(zip(docs.tolist(), scores.tolist()))
        depth *= 4


def _ranked(searcher: Searcher, tiers: list[Q.Query], want: int, options: dict, group: bool,
            first_tier_only: bool = False) -> list[tuple[int, float]]:
    """(docnum, score) best first, each tier's matches after the previous tier's (all words,
    then any word); with ``group``, only the best paragraph of each article.
    ``first_tier_only``: a later tier is used only when the earlier found nothing."""
    ranked: list[tuple[int, float]] = []
    seen_docs: set[int] = set()
    seen_articles: set = set()
    keys_of = _article_keys(searcher) if group else None
    for i, q in enumerate(tiers):
        if i and (tiers[i] == tiers[i - 1] or (first_tier_only and ranked)):
            continue
        fetch = want * 4 if group else want
        while True:
            docs, scores = _fetch(searcher, q, fetch, options)
            keys = keys_of(docs).tolist() if keys_of is not None else None
            for j, (docnum, score) in enumerate(zip(docs.tolist(), scores.tolist())):
                if docnum in seen_docs:
                    continue
                seen_docs.add(docnum)
                if keys is not None:
                    if keys[j] in seen_articles:
                        continue
                    seen_articles.add(keys[j])
                ranked.append((docnum, score))
            # one article may fill many places: look deeper until enough articles are found
            if len(ranked) >= want or len(docs) < fetch or not group:
                break
            fetch *= 4
        if len(ranked) >= want:
            break
    return ranked[:want]


def _article_keys(searcher: Searcher) -> Callable[[np.ndarray], np.ndarray]:
    """docnums → a key per article: from the forward index, else Whoosh's article_id
    column (cached on the searcher: opening it reads its offsets)."""
    columns = columnar.Columns.of(searcher)
    if columns is not None:
        return functools.partial(forward.article_keys, columns)
    column = getattr(searcher, "_searchnews_articles", None)
    if column is None:
        column = searcher._searchnews_articles = searcher.reader().column_reader("article_id")
    return lambda docs: np.array([column[d] for d in docs.tolist()], dtype=object)


def _fetch(searcher: Searcher, q: Q.Query, limit: int, options: dict
           ) -> tuple[np.ndarray, np.ndarray]:
    """The best ``limit`` (docnums, scores) of ``q`` under Whoosh's search ``options``
    (``filter``/``mask``: docnum arrays; ``sortedby="date"`` with ``reverse``: newest first,
    scores 0), from the postings arrays when they can answer, else from Whoosh."""
    columns = columnar.Columns.of(searcher)
    sortedby = options.get("sortedby")
    if columns is not None and set(options) <= {"filter", "mask", "sortedby", "reverse"} \
            and (sortedby is None or (sortedby == "date" and options.get("reverse"))):
        allowed = None
        if "filter" in options or "mask" in options:
            allowed = columns.mask(options["filter"]) if "filter" in options else \
                np.ones(searcher.doc_count_all(), bool)
            allowed[options.get("mask", [])] = False
        try:
            return columns.top(q, limit, allowed, by=_date_values(searcher) if sortedby else None)
        except columnar.Unsupported:
            pass
    whoosh = {k: set(v.tolist()) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    hits = searcher.search(q, limit=limit, **whoosh)
    return (np.array([h.docnum for h in hits], np.int64),
            np.array([h.score or 0.0 for h in hits], np.float64))


def _hits(searcher: Searcher, ranked: list[tuple[int, float | None]],
          marked: dict[str, set[str]], dedup: bool, limit: int,
          seen: dict[int, tuple] | None = None) -> Results:
    """The ranked paragraphs as hits, near-duplicates folded into the better ranked (their
    words compared through the forward index, or the stored text), the first ``limit``
    highlighted; stored fields are read for what is shown only. ``seen`` keeps what the
    forward index told of each document, for a deeper look at the same query."""
    docs = [docnum for docnum, _ in ranked]
    columns = columnar.Columns.of(searcher)
    page = {} if seen is None else seen      # docnum → (signature, text marks, title marks)
    if columns is not None:
        # the first look marks the words of all it folds (most are shown); a deeper one
        # reads the new paragraphs' signatures only, and marks those that are shown
        marks = _marks(marked) if not page else {}
        new = [d for d in (docs if dedup else docs[:limit]) if d not in page]
        found = forward.marked_starts(columns, new, marks, codes=dedup)
        page.update(zip(new, zip(found["codes"] if dedup else new,
                                 *([found["text"], found["title"]] if marks else
                                   [[None] * len(new)] * 2))))
    if not dedup:
        groups = [[i] for i in range(len(docs))]
    elif columns is not None:
        groups = duplicates.fold([page[d][0] for d in docs])
    else:
        groups = duplicates.fold([duplicates.signature(duplicates.text_codes(
            searcher.stored_fields(d)["text"])) for d in docs])
    groups = groups[:limit]
    unmarked = [docs[g[0]] for g in groups if columns is not None and page[docs[g[0]]][1] is None]
    if unmarked:
        found = forward.marked_starts(columns, unmarked, _marks(marked))
        for d, text, title in zip(unmarked, found["text"], found["title"]):
            page[d] = (page[d][0], text, title)
    stored = {docs[i]: searcher.stored_fields(docs[i]) for g in groups for i in g}
    hits = Results()
    for rank, group in enumerate(groups, 1):
        hit = _hit(stored[docs[group[0]]], docs[group[0]], ranked[group[0]][1])
        hit.rank = rank
        hit.duplicates = [_hit(stored[docs[i]], docs[i], None).place() for i in group[1:]]
        if columns is not None:
            _, text, title = page[hit.docnum]
            hit.highlights = spans_at(hit.text, text)
            hit.title_highlights = spans_at(hit.title, title)
        hits.append(hit)
    if columns is None:
        _highlight(searcher, hits, stored, marked)
    return hits


def _marks(marked: dict[str, set[str]]) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per searched field, the stems and the spellings to highlight."""
    return {f: (frozenset(marked[f]), frozenset(marked[WORDS])) for f in TEXT_FIELDS}


def fold_duplicates(hits: list[Hit]) -> list[Hit]:
    """Hits with the near-identical ones folded into the better ranked one's
    ``duplicates``, their texts analysed again (for engines without a forward index)."""
    groups = duplicates.fold([duplicates.signature(duplicates.text_codes(h.text))
                              for h in hits])
    for group in groups:
        hits[group[0]].duplicates += [hits[i].place() for i in group[1:]]
    return [hits[group[0]] for group in groups]


def _hit(d: dict, docnum: int, score: float | None) -> Hit:
    """A paragraph's hit from its stored fields, not highlighted yet."""
    return Hit(rank=0, score=score, article_id=d["article_id"],
               title=d.get("title") or d.get("derived_title") or "", date=d.get("date_iso"),
               source=d.get("source_name"), url=d.get("url"), paragraph=d["paragraph"],
               text=d["text"], n_paragraphs=d.get("n_paragraphs", 0), docnum=docnum)


def _highlight(searcher: Searcher, hits: list[Hit], stored: dict[int, dict],
               marked: dict[str, set[str]]) -> None:
    """Mark the matched words of each hit's text and of its title, if the title is
    searched: where they start is in the forward index; else each text is analysed."""
    columns = columnar.Columns.of(searcher)
    if columns is not None:
        page = forward.marked_starts(columns, [h.docnum for h in hits], _marks(marked))
        for hit, text, title in zip(hits, page["text"], page["title"]):
            hit.highlights = spans_at(hit.text, text)
            hit.title_highlights = spans_at(hit.title, title)
        return
    marks = {f: Highlighter(marked[f], marked[WORDS]) for f in TEXT_FIELDS}
    for hit in hits:
        hit.highlights = marks["text"].spans(hit.text)
        if stored[hit.docnum].get("title"):
            hit.title_highlights = marks["title"].spans(hit.title)


def _attach_others(searcher: Searcher, q: Q.Query, hits: list[Hit], more: int,
                   marked: dict[str, set[str]]) -> None:
    """Count each hit's matching paragraphs in its article and, when ``more``, attach the
    best others."""
    for hit, found in zip(hits, _article_matches(searcher, q, hits, more > 0)):
        found = sorted(found, reverse=True)
        hit.matches = max(1, len(found))
        others = [(sc, d) for sc, d in found if d != hit.docnum][:more]
        if others:
            stored = {d: searcher.stored_fields(d) for _, d in others}
            hit.others = sorted((_hit(stored[d], d, sc) for sc, d in others),
                                key=lambda h: h.paragraph)
            _highlight(searcher, hit.others, stored, marked)


def _article_matches(searcher: Searcher, q: Q.Query, hits: list[Hit], scored: bool
                     ) -> list[list[tuple[float, int]]]:
    """(score, docnum) of the paragraphs of each hit's article that ``q`` matches (scores
    only when ``scored``). With the arrays: the article's paragraphs from the forward index,
    looked up in the query's matches (evaluated once per query); else the query's matcher
    skips straight to them instead of running over every paragraph it matches."""
    columns = columnar.Columns.of(searcher)
    if columns is not None:
        try:
            docs, scores = columns.evaluate(q)
        except columnar.Unsupported:
            pass
        else:
            starts, ends = forward.article_spans(
                columns, np.array([h.docnum for h in hits], np.int64))
            lengths = ends - starts
            members = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + \
                np.arange(int(lengths.sum()))
            at = np.minimum(np.searchsorted(docs, members), max(len(docs) - 1, 0))
            found = (docs[at] == members) if len(docs) else np.zeros(len(members), bool)
            owner = np.repeat(np.arange(len(hits)), lengths)[found]
            pairs = list(zip(scores[at[found]].tolist(), members[found].tolist()))
            out: list[list[tuple[float, int]]] = [[] for _ in hits]
            for i, pair in zip(owner.tolist(), pairs):
                out[i].append(pair)
            return out
    reader = searcher.reader()
    article_of = {d: aid for aid in {h.article_id for h in hits}
                  for d in reader.postings("article_id", aid).all_ids()}
    by_article: dict[str, list[tuple[float, int]]] = {}
    matcher = q.matcher(searcher, searcher.context() if scored else searcher.boolean_context())
    for docnum in sorted(article_of):
        if matcher.is_active() and matcher.id() < docnum:
            matcher.skip_to(docnum)
        if not matcher.is_active():
            break
        if matcher.id() == docnum:
            by_article.setdefault(article_of[docnum], []).append(
                (matcher.score() if scored else 0.0, docnum))
    return [by_article.get(h.article_id, []) for h in hits]


def _marked_terms(parsed: ParsedQuery) -> dict[str, set[str]]:
    """What to highlight: the stems of the query's positive words per field, and the
    indexed words its prefix and fuzzy words expanded to."""
    out: dict[str, set[str]] = {"title": set(), "text": set(), WORDS: set(parsed.expanded)}
    for fieldname, item in positive_terms(parsed.q_any):
        if fieldname in out and isinstance(item, str):
            out[fieldname].add(item)
    return out


# -- suggestions -----------------------------------------------------------------------------

def _plain_words(text: str) -> Iterable[re.Match]:
    """The words of a query that are meant literally: not operators, field names, or words
    written with a wildcard (``coop*``, ``co?peracion``) or as a fuzzy term (``Pyongyng~``)."""
    patterns = [m.span() for m in _WILDCARD_WORD.finditer(text)]
    for m in WORD_RE.finditer(text):
        after, before = text[m.end():m.end() + 1], text[max(0, m.start() - 1):m.start()]
        if _OPERATOR.match(m.group()) or after in ("~", ":") or before == ":" \
                or m.group().isdigit() or any(a <= m.start() < b for a, b in patterns):
            continue
        yield m


_WILDCARD_WORD = re.compile(r"[\w*]*(?:\*|(?<=\w)\?(?=\w))[\w*?]*")


def _has_unknown_word(searcher: Searcher, parsed: ParsedQuery) -> bool:
    """Whether a word of the query is in no paragraph (checked on the index, so the
    vocabulary is loaded only when there is something to correct)."""
    frequency = _doc_frequency(searcher)
    for m in _plain_words(parsed.text):
        stem = term(m.group())
        if stem and frequency("text", stem) == 0 and frequency("title", stem) == 0:
            return True
    return False


def _doc_frequency(searcher: Searcher) -> Callable[[str, str], int]:
    """(field, term) → in how many paragraphs: from the postings arrays (which a query has
    looked up already) when there are, else from Whoosh's term index."""
    columns = columnar.Columns.of(searcher)
    if columns is None:
        return searcher.reader().doc_frequency
    return lambda fieldname, text: columns.doc_frequency(fieldname, text.encode("utf-8"))


def suggest(searcher: Searcher, vocabulary: Vocabulary, text: str, rare: int = 0
            ) -> str | None:
    """The query with each unknown word (or, with ``rare``, each word in at most that many
    paragraphs) replaced by the most frequent indexed word one edit away — two for words of
    six letters or more — spelled with its accents (``coperacion`` → ``cooperación``);
    None when nothing would change."""
    frequency = _doc_frequency(searcher)
    changed = False
    out = []
    last = 0
    for m in _plain_words(text):
        w = m.group()
        folded, stem = term(w, stem=False), term(w)
        replacement = w
        if folded and stem and frequency("text", stem) <= rare:
            floor = max(vocabulary.counts.get(folded, 0) * 10, 2)
            for maxdist, prefix in ((1, 1), (2, 2)):
                if maxdist == 2 and len(folded) < 6:
                    break
                better = [c for c in vocabulary.near(folded, maxdist, prefix)
                          if vocabulary.counts[c] > floor]
                if better:
                    replacement = _same_case(w, vocabulary.spell(better[0]))
                    changed = True
                    break
        out += [text[last:m.start()], replacement]
        last = m.end()
    out.append(text[last:])
    return "".join(out) if changed else None


def _same_case(typed: str, word: str) -> str:
    """Write a suggestion the way the user wrote the word: ``Pyongyng`` → ``Pyongyang``."""
    if typed.isupper() and len(typed) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if typed[:1].isupper() else word


# -- explaining ------------------------------------------------------------------------------

def explain(searcher: Searcher, text: str, syntax: bool = True, since: str | None = None,
            until: str | None = None, sources: Sequence[str] = (),
            vocabulary: Callable[[], Vocabulary] | None = None) -> str:
    """How a query is parsed and which index terms each word becomes, for ``--explain``."""
    parsed = parse(searcher, text, syntax, vocabulary)
    lines = [f"query:      {parsed.text}"]
    words = []
    for w in WORD_RE.findall(parsed.text):
        if _OPERATOR.match(w) or fold(w) in FIELD_NAMES:
            continue
        t = term(w)
        words.append(f"{w} → {t}" if t else f"{w} → (stopword)")
    lines.append(f"words:      {'; '.join(words)}")
    lines.append(f"all words:  {parsed.q_all}")
    if parsed.q_any != parsed.q_all:
        lines.append(f"then any:   {parsed.q_any}")
    if parsed.expanded:
        lines.append(f"expanded:   {', '.join(sorted(parsed.expanded)[:30])}"
                     + (" …" if len(parsed.expanded) > 30 else ""))
    if len(parsed.words) > 1:
        pairs = ", ".join(f"{a}+{b}" for a, b in zip(parsed.words, parsed.words[1:]))
        lines.append(f"proximity:  {pairs} (bonus when near each other in the paragraph)")
    flt = make_filter(since, until, sources)
    if flt is not None:
        lines.append(f"filter:     {flt}")
    return "\n".join(lines)
