"""The query language: a user's query → the Whoosh queries the pipeline runs.

Typed words are required all together (the first tier) or any of them (the second); phrases,
AND/OR/NOT, ``+``/``-``, fields (``titulo:``, ``fuente:``) and wildcards are Whoosh's query
syntax, checked first so that nothing is silently reinterpreted (an unbalanced quote, an
unknown field, an operator with no word). Prefix (``cooperaci*``) and fuzzy (``Pyongyng~``)
words are expanded through the vocabulary of indexed words (vocabulary.py) into the stems
they stand for, because stemming a fragment or a typo makes it match nothing; ``fuente:``
words are matched against the outlet names the engine holds.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Iterable

from whoosh import query as Q
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup, plugins, syntax

from .analysis import WORD_RE, fold, term
from .backend import FUZZY, Backend, require
from .errors import NothingToSearch, QueryError
from .ranking import BM25F

TEXT_FIELDS = ("title", "text")
# The title's weight against the text in BM25F: equal. 1.5 gained 0.0003 MRR@10 on squad-es,
# whose titles name each Wikipedia article, and lost 0.003 on squad-es among news paragraphs
# (as paragraphs and as whole articles), whose titles say less about each paragraph.
TITLE_BOOST = 1.0
MAX_EXPANSION = 1024       # words a query's wildcards may stand for (Lucene's clause limit)
MAX_EDITS = 2              # a fuzzy word's edits: beyond two, most words are near any word
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


def parse(backend: Backend, text: str, syntax: bool = True) -> ParsedQuery:
    """Parse a user query (``syntax=False``: plain words). The engine's vocabulary (loaded
    only if the query has prefix or fuzzy words) expands those; ``fuente:`` words match its
    outlet names."""
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
        rewrite = functools.partial(_rewrite, backend=backend, expanded=expanded)
        try:
            q_any = _required_first(rewrite(_parser(backend.schema, OrGroup).parse(text)))
            q_all = rewrite(_parser(backend.schema, AndGroup).parse(text))
        except (NotImplementedError, Q.QueryError) as exc:   # what Whoosh's parser leaves
            sign = {"Minus": "-", "Plus": "+"}.get(str(exc))
            raise QueryError(f"'{sign}' needs a word right after it in query: {text}" if sign
                             else f"cannot read query ({exc}): {text}") from None
    if not any(True for _ in positive_terms(q_any)) and not expanded:
        raise _nothing_to_search(text, q_any)
    top = q_any.subqueries[0] if isinstance(q_any, Q.And) else q_any
    words = [t for f, t in _top_level_terms(top) if f == "text"]
    surfaces = frozenset(fold(m.group()) for m in plain_words(text))
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


def _rewrite(q: Q.Query, backend: Backend, expanded: set[str]) -> Q.Query:
    """Expand prefix/fuzzy words through the vocabulary and outlet words to outlet names."""
    if isinstance(q, Q.Every) and q.fieldname == WORDS:       # a lone '*' (Whoosh: anything)
        raise QueryError("'*': a wildcard needs letters to match")
    if isinstance(q, (Q.PatternQuery, Q.FuzzyTerm, Q.Every)) and q.fieldname == "source":
        raise QueryError("fuente: takes words or a quoted phrase of the outlet's name, "
                         "not a wildcard or a fuzzy word")
    if isinstance(q, (Q.PatternQuery, Q.FuzzyTerm)) and q.fieldname == WORDS:
        if isinstance(q, Q.FuzzyTerm):
            require(backend, FUZZY, "fuzzy terms (word~)")
        vocab = backend.vocabulary()
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
        hits = [n for n in backend.source_names() if f" {wanted} " in f" {n} "]
        return Q.Or([Q.Term("source", n) for n in hits]) if hits else Q.NullQuery
    if q.is_leaf():
        return q
    return q.apply(functools.partial(_rewrite, backend=backend, expanded=expanded))


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


def plain_words(text: str) -> Iterable[re.Match]:
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
