"""The index in a Sphinx 2.2 (or Manticore) cluster: ``--engine sphinx://HOST:PORT,.../INDEX``.

Same Spanish semantics as the embedded engine *by construction*: searchnews analyses the text
itself (:mod:`searchnews.analysis`) and gives Sphinx only the resulting terms, so Sphinx does
no stemming, folding or stopwords of its own. Each paragraph is one RT row (layout in
:mod:`searchnews.sphinxconf`): fields ``title``/``text`` hold the stemmed terms, ``words``
the folded unstemmed words (to find prefix candidates), ``source`` one token naming the
outlet; attributes hold the raw text and metadata a hit shows.

Searching is the embedded engine's pipeline (:mod:`searchnews.pipeline`: the same parsing,
tiers, re-ranking, grouping, duplicate folding and highlights); :class:`SphinxBackend`
answers it, translating the Whoosh query trees into Sphinx's extended syntax over the same
terms (:func:`to_match`) and a :class:`~searchnews.filters.Filter` into SQL. The BM25 scores
come from Sphinx.

Indexing reuses :func:`searchnews.ingest.ingest` with a :class:`_Writer` that routes each
article to shard ``crc32(article_id) % N`` (and to every mirror of that shard); the manifest
lives in the server, in the RT index ``<name>_files`` on node 0.

URL: ``sphinx://H0:P0,H1:P1|H1b:P1b/noticias`` -- one comma-separated SphinxQL address per
shard (``|`` between mirrors of a shard). The first is node 0: queries go to its distributed
index. Reading needs only node 0; writing needs every shard.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import math
import os
import re
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np
from whoosh import query as Q

from . import pipeline
from .analysis import fold, terms
from .articles import Article
from .backend import TextEvidence
from .filters import Filter
from .query import TITLE_BOOST, WEIGHTING
from .ranking import rsj_idf
from .records import Results
from .errors import QueryError, SearchnewsError
from .index import COMMIT_EVERY, DEFAULT_WAIT, make_schema
from .ingest import IndexReport, ProgressFn, collect_files, ingest, size_of, write_lock
from .vocabulary import Vocabulary

CONNECT_TIMEOUT = 2.0         # seconds to reach a node
QUERY_TIMEOUT = 5.0           # seconds for an answer: agents give up at 3 s, so no hang
WRITE_TIMEOUT = 60.0          # seconds for a write batch (a RAM chunk may be saved)
ROWS_PER_STATEMENT = 500      # REPLACE ... VALUES (...),(...) rows
ROWS_PER_FLUSH = 5000         # buffered rows before they are written
KEYS_PER_DELETE = 1000
ARTICLES_PER_MANIFEST_ROW = 2000
MIRROR_RETRIES = 4            # extra tries when a mirrored agent fails (HA picks another)
MAX_ROWS = 100_000            # "all" rows: article(), prefix candidates, outlets
MAX_OTHERS = 10_000           # matching paragraphs of the shown articles
SCORE_SCALE = 1_000_000       # WEIGHT() is an integer: the ranker scales BM25 by this
K1, B = WEIGHTING.K1, WEIGHTING.B
TOTALS_TTL = 30.0             # seconds BM25 totals (docs, tokens) are cached


# -- identifiers and tokens ------------------------------------------------------------------

def _hash63(*parts: str) -> int:
    """A stable nonzero 63-bit id (Sphinx ignores id 0; ids ≥ 2^63 are unsafe in clients)."""
    h = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(h, "big") & ((1 << 63) - 1)) or 1


def doc_id(article_id: str, paragraph: int) -> int:
    return _hash63(article_id, str(paragraph))


def article_key(article_id: str) -> int:
    return _hash63("article", article_id)


def shard_of(article_id: str, n_shards: int) -> int:
    """All paragraphs of an article live on one shard, chosen by a stable hash."""
    return zlib.crc32(article_id.encode("utf-8")) % n_shards


_PLAIN = re.compile(r"[a-z0-9_]+")


def token(term: str) -> str:
    """One index term as one Sphinx token. Terms are ``[a-z0-9_]`` (what the charset table
    keeps) except for rare transliterations (unidecode may give spaces or punctuation):
    those are hex-encoded, so no term is split or can carry query syntax."""
    return term if _PLAIN.fullmatch(term) else "__" + term.encode("utf-8").hex()


def field_text(text: str, stem: bool = True) -> str:
    return " ".join(token(t) for t in terms(text, stem=stem))


def source_token(folded_source: str) -> str:
    """The ``source`` field's one token: the folded outlet name, hex-encoded (exact match)."""
    return "s" + folded_source.encode("utf-8").hex()


def day_number(iso: str | None) -> int:
    """The ``date`` attribute: proleptic ordinal of the day (always ≥ 1); 0 = undated."""
    return dt.date.fromisoformat(iso[:10]).toordinal() if iso else 0


def _clean(text: str | None) -> str:
    """NUL and Ctrl-Z do not survive SphinxQL string literals (they come back as '0', 'Z')."""
    return (text or "").replace("\x00", "\ufffd").replace("\x1a", "\ufffd")


# -- connections -----------------------------------------------------------------------------

def _pymysql():
    try:
        import pymysql
        return pymysql
    except ImportError:
        raise SearchnewsError("the sphinx engine needs pymysql: pip install pymysql") from None


def connect(host: str, port: int, timeout: float = CONNECT_TIMEOUT,
            read_timeout: float = QUERY_TIMEOUT, label: str | None = None):
    """A SphinxQL connection (multi-statement, so SHOW META rides with its SELECT)."""
    pymysql = _pymysql()
    from pymysql.constants import CLIENT
    try:
        return pymysql.connect(host=host, port=port, user="", password="", charset="utf8",
                               connect_timeout=timeout, read_timeout=read_timeout,
                               write_timeout=read_timeout, autocommit=True,
                               client_flag=CLIENT.MULTI_STATEMENTS)
    except pymysql.err.MySQLError as exc:
        raise SearchnewsError(f"cannot reach {label or f'sphinx://{host}:{port}'}: "
                              f"{_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    """A pymysql error as a few words: 'connection refused', 'timed out', the server text."""
    args = getattr(exc, "args", ())
    text = str(args[1] if len(args) > 1 else exc).rstrip("\x00").strip()
    low = text.lower()
    if "refused" in low or f"errno {errno.ECONNREFUSED}" in low:
        return "connection refused"
    if "timed out" in low or "timeout" in low:
        return "timed out"
    if "lost connection" in low or "gone away" in low or "reset by peer" in low:
        return "the server closed the connection"
    if "name or service not known" in low or "nodename" in low:
        return "unknown host"
    return text.replace("\n", " ")


class _Node:
    """One searchd, reached lazily; a dropped connection is reopened once per statement."""

    def __init__(self, host: str, port: int, label: str, read_timeout: float):
        self.host, self.port, self.label, self.read_timeout = host, port, label, read_timeout
        self.conn = None

    def run(self, sql: str, args: Sequence | None = None) -> list[tuple]:
        """Every result set of ``sql`` (statements separated by ';'), errors as one line."""
        pymysql = _pymysql()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = connect(self.host, self.port, read_timeout=self.read_timeout,
                                    label=self.label)
            try:
                with self.conn.cursor() as cur:
                    cur.execute(sql, args)
                    out = [cur.fetchall()]
                    while cur.nextset():
                        out.append(cur.fetchall())
                    return out
            except pymysql.err.OperationalError as exc:
                self.close()
                code = exc.args[0] if exc.args else 0
                if attempt == 1 and code in (2006, 2013, 2014):   # gone: reconnect once
                    continue
                raise SearchnewsError(f"lost the connection to {self.label}: "
                                      f"{_reason(exc)}") from None
            except pymysql.err.MySQLError as exc:
                self.close()
                raise SearchnewsError(f"{self.label}: {_reason(exc)}") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        self.conn = None


def parse_url(url: str) -> tuple[list[list[tuple[str, int]]], str]:
    """``sphinx://H:P[|H:P],H:P.../NAME`` → (shards, each a list of mirror addresses; NAME)."""
    parts = urlsplit(url)
    name = parts.path.strip("/")
    usage = (f"bad engine URL '{url}' (expected sphinx://HOST:PORT[,HOST:PORT...]/INDEX, "
             f"one SphinxQL address per shard, node 0 first)")
    if not name or not re.fullmatch(r"\w+", name) or not parts.netloc:
        raise SearchnewsError(usage)
    shards = []
    for entry in parts.netloc.split(","):
        mirrors = []
        for addr in entry.split("|"):
            host, _, port = addr.strip().rpartition(":")
            if not host or not port.isdigit():
                raise SearchnewsError(usage)
            mirrors.append((host.strip("[]"), int(port)))
        shards.append(mirrors)
    return shards, name


# -- Whoosh query trees → Sphinx extended syntax ---------------------------------------------

def to_match(q: Q.Query) -> str | None:
    """A Whoosh query from :func:`searchnews.query.parse` in Sphinx's extended syntax over
    the same terms; None when it can match nothing. Every atom names its fields."""
    if q is Q.NullQuery or isinstance(q, type(Q.NullQuery)):
        return None
    if isinstance(q, Q.Term):
        return _atom([q.fieldname], _term_token(q.fieldname, q.text))
    if isinstance(q, Q.Phrase):
        if q.slop > 1:
            raise QueryError("phrases with slop need the embedded engine")
        words = [token(w) for w in q.words]
        return _atom([q.fieldname], '"' + " ".join(words) + '"') if words else None
    if isinstance(q, Q.Or):
        return _join(q.children(), " | ")
    if isinstance(q, Q.And):
        parts = [to_match(c) if not isinstance(c, Q.Not) else c for c in q.children()]
        if any(p is None for p in parts):
            return None                      # one part matches nothing
        positive = [p for p in parts if isinstance(p, str)]
        negative = [n for n in (_negated(c) for c in parts if isinstance(c, Q.Not)) if n]
        if not positive:
            raise QueryError("a NOT needs something to search for beside it")
        return "(" + " ".join(positive + negative) + ")"
    if isinstance(q, Q.AndNot):
        a = to_match(q.a)
        b = to_match(q.b)
        return None if a is None else (a if b is None else f"({a} -{b})")
    if isinstance(q, Q.AndMaybe):
        a, b = to_match(q.a), to_match(q.b)
        return None if a is None else (a if b is None else f"({a} MAYBE {b})")
    if isinstance(q, Q.Not):
        raise QueryError("a NOT needs something to search for beside it")
    if isinstance(q, Q.FuzzyTerm):
        raise QueryError("fuzzy terms (word~) need the embedded engine")
    raise QueryError(f"the sphinx engine cannot run this part of the query: {q}")


def _negated(q: Q.Not) -> str | None:
    inner = to_match(q.query)
    return f"-{inner}" if inner else None


def _join(children: Iterable[Q.Query], sep: str) -> str | None:
    """OR the children; a term (or phrase) searched in several fields becomes one atom."""
    fields_of: dict[tuple, list[str]] = {}
    order: list = []
    for c in children:
        if isinstance(c, (Q.Term, Q.Phrase)) and c.fieldname in ("title", "text"):
            key = ("t", c.text) if isinstance(c, Q.Term) else ("p", tuple(c.words))
            if key not in fields_of:
                fields_of[key] = []
                order.append(key)
            fields_of[key].append(c.fieldname)
        else:
            order.append(c)
    parts = []
    for item in order:
        if isinstance(item, tuple):
            kind, value = item
            if kind == "t":
                text = token(value)
            else:
                if not value:
                    continue
                text = '"' + " ".join(token(w) for w in value) + '"'
            parts.append(_atom(fields_of[item], text))
        else:
            m = to_match(item)
            if m is not None:
                parts.append(m)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "(" + sep.join(parts) + ")"


def _term_token(fieldname: str, text: str) -> str:
    if fieldname == "source":
        return source_token(text)
    if fieldname in ("title", "text"):
        return token(text)
    raise QueryError(f"the sphinx engine cannot search the field '{fieldname}'")


def _atom(fields: Sequence[str], text: str) -> str:
    names = sorted(set(fields), key=("title", "text", "source").index)
    limit = f"@{names[0]}" if len(names) == 1 else "@(" + ",".join(names) + ")"
    return f"({limit} {text})"


@dataclass
class _Sql:
    """A :class:`Filter` in SphinxQL: MATCH parts and WHERE clauses with their arguments."""

    match: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    args: list = field(default_factory=list)
    article_ids: set[str] | None = None       # checked in Python (the key is a hash)

    @classmethod
    def of(cls, flt: Filter, article_ids: Iterable[str] | None = None) -> "_Sql":
        sql = cls()
        if flt.has_dates:
            sql.where.append("date BETWEEN %s AND %s")
            sql.args += [flt.start.date().toordinal() if flt.start else 1,
                         flt.stop.date().toordinal() if flt.stop else 2 ** 32 - 1]
        if flt.dated is not None:
            sql.where.append("date > 0" if flt.dated else "date = 0")
        if flt.sources:
            sql.match.append(to_match(Q.Or([Q.Term("source", s) for s in flt.sources]))
                             or "")
        if flt.exclude_article is not None:
            sql.where.append(f"article_key NOT IN ({article_key(flt.exclude_article)})")
        if article_ids is not None:
            sql.article_ids = set(article_ids)
            keys = ",".join(str(article_key(a)) for a in sorted(sql.article_ids))
            sql.where.append(f"article_key IN ({keys})")
        return sql


# -- searching ------------------------------------------------------------------------------

COLUMNS = ("article_id", "paragraph", "n_paragraphs", "date_iso", "title_raw",
           "title_derived", "text_raw", "source_name", "url")


def _stored(values: dict) -> dict:
    """Sphinx's attribute values as the embedded engine's stored fields."""
    return {"article_id": values["article_id"], "paragraph": int(values["paragraph"]),
            "n_paragraphs": int(values["n_paragraphs"]),
            "title" if not int(values["title_derived"]) else "derived_title": values["title_raw"],
            "text": values["text_raw"], "date_iso": values["date_iso"] or None,
            "source_name": values["source_name"] or None, "url": values["url"] or None}


class SphinxBackend(TextEvidence):
    """A Sphinx cluster as the query pipeline asks it (:class:`backend.Backend`), for one
    query: it keeps the rows it fetched, so stored fields cost no round trip, and the
    re-ranking evidence and marks come from their text (:class:`backend.TextEvidence`)."""

    name = "sphinx"
    capabilities: frozenset[str] = frozenset()       # no fuzzy words, no suggestions
    schema = make_schema()

    def __init__(self, engine: "SphinxEngine"):
        self.engine = engine
        self.rows: dict[int, dict] = {}
        self._idf: dict[tuple[str, str], float] = {}
        self._words = _Words(engine)

    def doc_count(self) -> int:
        return self.engine.paragraphs()

    def doc_count_all(self) -> int:
        return self.engine.totals()[0]

    def source_names(self) -> list[str]:
        return list(self.engine.source_counts())

    def vocabulary(self) -> Vocabulary:
        return self._words

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.engine.count(_atom([fieldname], _term_token(fieldname, text)))

    def idf(self, fieldname: str, texts: Sequence[str]) -> np.ndarray:
        """The embedded engine's IDF (:func:`ranking.rsj_idf`) over the whole cluster, the
        document frequencies counted in one round trip."""
        todo = [t for t in dict.fromkeys(texts) if (fieldname, t) not in self._idf]
        if todo:
            n = self.engine.totals()[0]
            counts = self.engine.counts([_atom([fieldname], _term_token(fieldname, t))
                                         for t in todo])
            for t, df in zip(todo, counts):
                self._idf[(fieldname, t)] = rsj_idf(df, n)
        return np.array([self._idf[(fieldname, t)] for t in texts])

    def spelling_frequencies(self, spellings: Sequence[str]) -> list[int] | None:
        return None

    def candidates(self, q: Q.Query, limit: int, flt: Filter, by_date: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
        rows = self._select(q, limit, _Sql.of(flt),
                            "date DESC, id ASC" if by_date else "w DESC, id ASC")
        return (np.array([doc for doc, _ in rows], np.int64),
                np.array([score for _, score in rows], np.float64))

    def _select(self, q: Q.Query, limit: int, sql: _Sql, order: str = "w DESC, id ASC"
                ) -> list[tuple[int, float]]:
        """(id, score) of the rows matching ``q`` and the filter, in ``order``; their
        stored fields kept."""
        match = to_match(q)
        if match is None or "" in sql.match:
            return []
        rows = self.engine.select(" ".join([match] + sql.match), sql.where, sql.args, order,
                                  limit)
        out = []
        for row in rows:
            doc, weight, values = row[0], row[1], dict(zip(COLUMNS, row[2:]))
            if sql.article_ids is not None and values["article_id"] not in sql.article_ids:
                continue                   # a 63-bit key collision: never seen, still checked
            self.rows[doc] = _stored(values)
            out.append((doc, weight * self.engine.score_unit()))
        return out

    def article_keys(self, docs: np.ndarray) -> np.ndarray:
        return np.array([self.rows[d]["article_id"] for d in docs.tolist()], dtype=object)

    def stored(self, docs: Sequence[int]) -> list[dict]:
        return [self.rows[d] for d in docs]

    def article_matches(self, q: Q.Query, docs: Sequence[int], scored: bool
                        ) -> list[list[tuple[float, int]]]:
        """One query over the shown articles."""
        articles = [self.rows[d]["article_id"] for d in docs]
        by_article: dict[str, list[tuple[float, int]]] = {}
        for doc, score in self._select(q, MAX_OTHERS, _Sql.of(Filter(), articles)):
            by_article.setdefault(self.rows[doc]["article_id"], []).append((score, doc))
        return [by_article.get(a, []) for a in articles]

    def key_terms(self, article_id: str, n: int) -> list[tuple[str, float]]:
        """The Bo1 weighting the embedded engine uses, with Sphinx's collection counts."""
        article = self.engine.article(article_id)
        if article is None:
            raise QueryError(f"no article '{article_id}' in the index")
        counts: dict[str, int] = {}
        for t in terms("\n".join((article.title,) + article.paragraphs)):
            counts[t] = counts.get(t, 0) + 1
        frequency = self.engine.frequencies(list(counts))
        n_docs = self.engine.totals()[0]
        weight = {}
        for t, tf in counts.items():
            f = max(frequency.get(t, 0), 1) / n_docs
            weight[t] = tf * math.log2((1 + f) / f) + math.log2(1 + f)
        return [(t, weight[t]) for t in sorted(weight, key=lambda t: -weight[t])[:n]]

    def describe(self, q_all: Q.Query, q_any: Q.Query) -> list[str]:
        """The MATCH() strings sent to Sphinx."""
        lines = [f"sphinx all: MATCH('{to_match(q_all)}')"]
        if q_any != q_all:
            lines.append(f"sphinx any: MATCH('{to_match(q_any)}')")
        return lines


class _Words(Vocabulary):
    """Prefix words expanded as the embedded engine does (into the stems of the indexed
    words they match), with the indexed words read from the paragraphs that Sphinx finds
    through the ``words`` field. (Fuzzy words have no equivalent in Sphinx 2.2: the engine
    declares none.)"""

    def __init__(self, engine: "SphinxEngine"):
        super().__init__()
        self.engine = engine
        self.prefixes: set[str] = set()

    def matching(self, pattern: str) -> list[str]:
        prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
        if not prefix:
            raise QueryError(f"'{pattern}': a wildcard needs a letter before '*' on the "
                             f"sphinx engine")
        if not _PLAIN.fullmatch(prefix):
            return []
        if prefix not in self.prefixes:           # each prefix is looked up once per query
            self.prefixes.add(prefix)
            for title, text in self.engine.texts(f"(@words {prefix}*)"):
                for w in terms(title + "\n" + text, stem=False):
                    if w.startswith(prefix):
                        self.counts[w] = self.counts.get(w, 0) + 1
            self._sorted = None
        return super().matching(pattern)


# -- the engine ------------------------------------------------------------------------------

class SphinxEngine:
    """A searchnews index held by a Sphinx cluster; the same surface as :class:`Index`."""

    def __init__(self, url: str):
        self.url = url
        self.path = url                          # what messages and reports name
        self.shards, self.name = parse_url(url)
        host, port = self.shards[0][0]
        self.where = f"sphinx://{host}:{port}/{self.name}"
        self.node0 = _Node(host, port, self.where, QUERY_TIMEOUT)
        self._writers: dict[tuple[str, int], _Node] = {}
        self._totals: tuple[float, tuple[int, int]] | None = None
        self._paragraphs = 0
        self._layout: tuple[int, bool] | None = None

    @classmethod
    def from_url(cls, url: str) -> "SphinxEngine":
        return cls(url)

    def __enter__(self) -> "SphinxEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.node0.close()
        for node in self._writers.values():
            node.close()

    # -- low level -------------------------------------------------------------------------

    def layout(self) -> tuple[int, bool]:
        """(shards, any mirrored) as node 0's distributed index declares them."""
        if self._layout is None:
            rows = self._run(f"DESCRIBE {self.name}")[0]
            kinds = [str(r[1]) for r in rows]
            if not kinds or not all(k == "local" or k.startswith("remote_") for k in kinds):
                raise SearchnewsError(
                    f"{self.where}: '{self.name}' is not a searchnews distributed index "
                    f"(write configs with 'searchnews sphinx config')")
            remote = {k.split("_")[1] for k in kinds if k.startswith("remote_")}
            self._layout = (kinds.count("local") + len(remote),
                            any("_mirror_" in k for k in kinds))
        return self._layout

    def _run(self, sql: str, args: Sequence | None = None) -> list[tuple]:
        try:
            return self.node0.run(sql, args)
        except SearchnewsError as exc:
            text = str(exc)
            if re.search(r"(unknown local index|no such index) '?" + self.name, text):
                raise SearchnewsError(f"{self.where}: no index '{self.name}' on this server "
                                      f"(write configs with 'searchnews sphinx config')"
                                      ) from None
            if "remote query error" in text or "agent " not in text:
                raise
            raise SearchnewsError(_agent_message(self.where, [text])) from None

    def select(self, match: str, where: list[str], args: list, order: str,
               limit: int) -> list[tuple]:
        """Rows (id, weight, COLUMNS...) of the distributed index, complete or an error: a
        shard that does not answer makes the result partial, which is never returned."""
        sql = (f"SELECT id, WEIGHT() AS w, {', '.join(COLUMNS)} FROM {self.name} "
               f"WHERE {' AND '.join(['MATCH(%s)'] + where)} ORDER BY {order} "
               f"LIMIT 0,{int(limit)} OPTION max_matches={max(int(limit), 1)}, "
               f"{self.ranker()}; SHOW META; SHOW WARNINGS")
        return self._checked(sql, [match] + args)[0]

    def _checked(self, sql: str, args: list) -> list[tuple]:
        """Run a distributed SELECT; retry while SHOW WARNINGS names a failed agent (with
        mirrors, HA moves to another one), then fail with the agent's name."""
        tries = 1 + (MIRROR_RETRIES if self.layout()[1] else 1)
        for attempt in range(tries):
            sets = self._run(sql, args)
            problems = [str(r[2]) for r in sets[-1] if "agent" in str(r[2])]
            if not problems:
                return sets
            time.sleep(0.02 * attempt)
        raise SearchnewsError(_agent_message(self.where, problems))

    def ranker(self) -> str:
        """The OPTIONs that rank, close to the embedded engine's BM25F: BM25 over all
        fields with k1/b transformed for RT indexes (:func:`bm25_parameters`; shards assumed
        of equal size), plus the title's matches again, weighted like Whoosh's title boost
        (1.5 × idf, in the units of :meth:`score_unit`). ``field_weights`` only marks the
        title field for ``sum()``; nothing else here reads user weights."""
        n_docs, n_tokens = self.totals()
        shards = self.layout()[0]
        k1, b = bm25_parameters(n_docs / shards, n_tokens / shards)
        title = TITLE_BOOST / (K1 + 1)
        return (f"ranker=expr('{SCORE_SCALE}*((bm25a({k1:.9g},{b:.9g})-0.5) + "
                f"{title:.6g}*sum(tf_idf*if(user_weight>1,1,0)))'), "
                f"idf='plain,tfidf_unnormalized', field_weights=(title=2)")

    def score_unit(self) -> float:
        """WEIGHT() → a BM25 score in the embedded engine's units. Sphinx's ``plain`` IDF
        is ``log(N/n) / (2·log(N+1))`` per shard and its BM25 lacks the ``(k1+1)`` factor;
        undoing both gives ``Σ log(N/n)·tf·(k1+1)/(tf+K)``, comparable with Whoosh's BM25F
        (whose IDF is ``log(N/(n+1)) + 1``) and with the proximity bonus added to it."""
        n_docs = self.totals()[0] / self.layout()[0]
        return 2 * math.log(n_docs + 1) * (K1 + 1) / SCORE_SCALE

    def count(self, match: str) -> int:
        return self.counts([match])[0]

    def counts(self, matches: list[str]) -> list[int]:
        """How many paragraphs each MATCH() finds, in one round trip (a dead agent fails
        every statement alike, so the last one's warnings are checked)."""
        sql = " ".join(f"SELECT id FROM {self.name} WHERE MATCH(%s) LIMIT 1 "
                       f"OPTION ranker=none; SHOW META;" for _ in matches)
        sets = self._checked(sql + " SHOW WARNINGS", list(matches))
        return [int(dict((r[0], r[1]) for r in meta).get("total_found", 0))
                for meta in sets[1::2]]

    def totals(self) -> tuple[int, int]:
        """(paragraphs, tokens over all fields) of the cluster: the BM25 length norm."""
        now = time.monotonic()
        if self._totals is None or now - self._totals[0] > TOTALS_TTL:
            sets = self._checked(
                f"SELECT COUNT(*), SUM(title_len), SUM(text_len), SUM(words_len), "
                f"SUM(source_len) FROM {self.name}; SHOW META; SHOW WARNINGS", [])
            row = [int(x or 0) for x in (sets[0][0] if sets[0] else (0,))]
            self._totals = (now, (max(1, row[0]), max(1, sum(row[1:]))))
            self._paragraphs = row[0]
        return self._totals[1]

    def paragraphs(self) -> int:
        """Live paragraphs of the cluster, as :meth:`totals` counted them (a count of 0 is
        counted again: an index filled since is never taken for empty)."""
        self.totals()
        if not self._paragraphs:
            self._totals = None
            self.totals()
        return self._paragraphs

    def texts(self, match: str) -> list[tuple[str, str]]:
        """(title, text) of every paragraph matching ``match``."""
        total = self.count(match)
        if not total:
            return []
        sets = self._checked(
            f"SELECT id, title_raw, text_raw FROM {self.name} WHERE MATCH(%s) "
            f"LIMIT 0,{min(total, MAX_ROWS)} OPTION max_matches={min(total, MAX_ROWS)}, "
            f"ranker=none; SHOW META; SHOW WARNINGS", [match])
        return [(r[1], r[2]) for r in sets[0]]

    def source_counts(self) -> dict[str, int]:
        """Paragraphs per outlet (folded name), most first: ``stats`` and ``fuente:``."""
        sets = self._checked(f"SELECT source_id, COUNT(*) AS c FROM {self.name} "
                             f"WHERE source_id != '' GROUP BY source_id ORDER BY c DESC "
                             f"LIMIT 0,{MAX_ROWS} OPTION max_matches={MAX_ROWS}; "
                             f"SHOW META; SHOW WARNINGS", [])
        return {r[0]: int(r[1]) for r in sets[0]}

    def _sources_as_written(self) -> dict[str, int]:
        """Paragraphs per outlet, most first, each named as its latest article writes it
        (ties: the smallest article id), as the embedded engine picks the name."""
        sets = self._checked(f"SELECT source_id, source_name, COUNT(*) AS c FROM {self.name} "
                             f"WHERE source_id != '' GROUP BY source_id WITHIN GROUP ORDER BY "
                             f"date DESC, article_id ASC ORDER BY c DESC "
                             f"LIMIT 0,{MAX_ROWS} OPTION max_matches={MAX_ROWS}; "
                             f"SHOW META; SHOW WARNINGS", [])
        return {r[1] or r[0]: int(r[2]) for r in sets[0]}

    # -- reading ---------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """Whether anything was indexed (the manifest in ``<name>_files`` has a row)."""
        rows = self._run(f"SELECT COUNT(*) FROM {self.name}_files")[0]
        return bool(rows and rows[0][0])

    def search(self, query: str, limit: int = 10, **options) -> Results:
        """Ranked hits, as :meth:`Index.search` gives them: the same pipeline
        (:func:`searchnews.pipeline.search`), this cluster answering it."""
        return pipeline.search(SphinxBackend(self), query, limit=limit, **options)

    def explain(self, query: str, **options) -> str:
        """The embedded engine's explanation, plus the MATCH() strings sent to Sphinx."""
        return pipeline.explain(SphinxBackend(self), query, **options)

    def similar(self, article_id: str, limit: int = 10) -> Results:
        """Articles about the same thing (:func:`searchnews.pipeline.similar`). Sphinx 2.2
        has no per-term boosts, so the key terms count equally in the ranking."""
        return pipeline.similar(SphinxBackend(self), article_id, limit=limit)

    def frequencies(self, words: list[str]) -> dict[str, int]:
        """Occurrences of each term in the cluster (CALL KEYWORDS on every shard)."""
        out: dict[str, int] = {}
        text = " ".join(token(w) for w in words)
        for mirrors in self.shards:
            for row in self._on_a_mirror(mirrors, f"CALL KEYWORDS(%s, '{self.name}_shard', 1)",
                                         [text])[0]:
                out[str(row[2])] = out.get(str(row[2]), 0) + int(row[4])
        return {w: out.get(token(w), 0) for w in words}

    def article(self, article_id: str) -> Article | None:
        """An indexed article, rebuilt from its paragraphs' attributes (None if absent)."""
        sets = self._checked(
            f"SELECT id, paragraph, article_id, title_raw, text_raw, date_iso, source_name, "
            f"url, title_derived FROM {self.name} WHERE article_key = %s ORDER BY paragraph ASC "
            f"LIMIT 0,{MAX_ROWS} OPTION max_matches={MAX_ROWS}; SHOW META; SHOW WARNINGS",
            [article_key(article_id)])
        rows = [r for r in sets[0] if r[2] == article_id]
        if not rows:
            return None
        first = rows[0]
        return Article(article_id, first[3], tuple(r[4] for r in rows), first[5] or None,
                       first[6] or None, first[7] or None, title_derived=bool(int(first[8])))

    def stats(self) -> dict:
        """The embedded engine's figures; ``terms`` is 0: Sphinx 2.2 does not expose the
        size of an RT dictionary."""
        files, updated = self._load_manifest()
        paragraphs = self._checked(f"SELECT COUNT(*) FROM {self.name}; SHOW META; "
                                   f"SHOW WARNINGS", [])[0]
        dates = self._checked(f"SELECT MIN(date), MAX(date) FROM {self.name} WHERE date > 0; "
                              f"SHOW META; SHOW WARNINGS", [])[0]
        size = 0
        for mirrors in self.shards:
            status = dict(self._on_a_mirror(mirrors, f"SHOW INDEX {self.name}_shard STATUS")[0])
            size += int(status.get("ram_bytes", 0)) + int(status.get("disk_bytes", 0))
        first, last = (dates[0] if dates and dates[0][0] else (0, 0))
        return {
            "index": self.url,
            "articles": sum(len(e["articles"]) for e in files.values()),
            "paragraphs": int(paragraphs[0][0]) if paragraphs else 0,
            "terms": 0,
            "files": len(files),
            "size_bytes": size,
            "sources": self._sources_as_written(),
            "date_first": dt.date.fromordinal(int(first)).isoformat() if first else None,
            "date_last": dt.date.fromordinal(int(last)).isoformat() if last else None,
            "updated": dt.datetime.fromtimestamp(updated, dt.timezone.utc).isoformat(
                timespec="seconds") if updated else None,
        }

    # -- writing ---------------------------------------------------------------------------

    def _on_a_mirror(self, mirrors: list[tuple[str, int]], sql: str,
                     args: Sequence | None = None) -> list:
        """A shard's answer from the first of its mirrors that gives one: a read needs one
        copy of the shard, not every node (the last failure is the error)."""
        for i, (host, port) in enumerate(mirrors):
            try:
                return self._writer(host, port, read_timeout=QUERY_TIMEOUT).run(sql, args)
            except SearchnewsError:
                if i == len(mirrors) - 1:
                    raise
        raise SearchnewsError(f"{self.url}: a shard with no node")

    def _writer(self, host: str, port: int, read_timeout: float = WRITE_TIMEOUT) -> _Node:
        key = (host, port)
        if key not in self._writers:
            shard = next(i for i, m in enumerate(self.shards) if key in m)
            self._writers[key] = _Node(host, port, f"sphinx://{host}:{port} (shard {shard} "
                                       f"of {self.name})", read_timeout)
        return self._writers[key]

    def add_paths(self, paths: Iterable[str | os.PathLike], rebuild: bool = False,
                  wait: float = DEFAULT_WAIT, progress: ProgressFn | None = None,
                  on_total: Callable[[int], None] | None = None) -> IndexReport:
        """Index files and folders incrementally, as :meth:`Index.add_paths` does (the same
        :func:`ingest`). ``rebuild`` empties every shard first: Sphinx RT indexes cannot be
        swapped, so queries see the index fill up again."""
        started = time.monotonic()
        report = IndexReport(index=self.url)
        files, roots = collect_files(paths, report)
        if on_total:
            on_total(sum(size_of(f) for f, _ in files))
        with self._write_lock(wait):
            self._check_shards()
            if rebuild:
                for mirrors in self.shards:
                    for host, port in mirrors:
                        self._writer(host, port).run(f"TRUNCATE RTINDEX {self.name}_shard")
                self._files_node().run(f"TRUNCATE RTINDEX {self.name}_files")
            known = {} if rebuild else self._load_manifest()[0]
            writer = _Writer(self, known, fresh=rebuild)
            ingest(files, roots, known, writer, report, progress)
            writer.commit()
        self._totals = None
        report.elapsed = time.monotonic() - started
        return report

    def _check_shards(self) -> None:
        """Writing routes by the number of shards: the URL must list them all."""
        declared, _ = self.layout()
        if declared != len(self.shards):
            raise SearchnewsError(
                f"{self.where}: the index has {declared} shards but the URL lists "
                f"{len(self.shards)}; to write, give every shard's SphinxQL address, node 0 "
                f"first: sphinx://HOST:PORT,HOST:PORT.../{self.name}")

    def _files_node(self) -> _Node:
        return self._writer(*self.shards[0][0])

    def _write_lock(self, wait: float):
        """One writer at a time *on this machine*: a flock on a file named after node 0's
        address and the index. Sphinx 2.2 has no lock of its own (see docs/sphinx.md)."""
        key = hashlib.sha1(self.where.encode()).hexdigest()[:16]
        return write_lock(Path(tempfile.gettempdir()) / f"searchnews-sphinx-{key}.lock", wait,
                          self.where)

    def _load_manifest(self) -> tuple[dict, int]:
        """(files → entry, last update as a Unix time) from ``<name>_files``."""
        node = self._files_node()
        total = node.run(f"SELECT COUNT(*) FROM {self.name}_files")[0][0][0]
        if not total:
            return {}, 0
        rows = node.run(f"SELECT path, part, sha, articles, updated FROM {self.name}_files "
                        f"ORDER BY part ASC LIMIT 0,{total} OPTION max_matches={total}")[0]
        files: dict[str, dict] = {}
        for path, _part, sha, articles, _ in rows:
            entry = files.setdefault(path, {"sha": sha or None, "articles": {}})
            entry["articles"].update(json.loads(articles))
        return files, max(int(r[4]) for r in rows)

    def _save_manifest(self, changed: dict[str, dict | None]) -> None:
        """Replace the rows of each changed file (None: the file is gone)."""
        node = self._files_node()
        now = int(time.time())
        for path, entry in changed.items():
            key = _hash63("file", path)
            node.run(f"DELETE FROM {self.name}_files WHERE path_key = %s", [key])
            if entry is None:
                continue
            items = list(entry["articles"].items())
            chunks = [items[i:i + ARTICLES_PER_MANIFEST_ROW]
                      for i in range(0, len(items), ARTICLES_PER_MANIFEST_ROW)] or [[]]
            for part, chunk in enumerate(chunks):
                node.run(f"INSERT INTO {self.name}_files (id, name, path_key, part, path, sha, "
                         f"articles, updated) VALUES (%s, '', %s, %s, %s, %s, %s, %s)",
                         [_hash63("file", path, str(part)), key, part, path,
                          entry.get("sha") or "", json.dumps(dict(chunk), ensure_ascii=False),
                          now])


def bm25_parameters(docs_per_shard: float, tokens_per_shard: float) -> tuple[float, float]:
    """k1', b' that make Sphinx 2.2's RT bm25a equal to BM25(K1, B): RT indexes give the
    ranker avgdl = 1/N, so ``k1'(1 - b' + b'·dl·N)`` is solved to equal
    ``k1(1 - b + b·dl/avgdl)`` with the true avgdl = tokens/N (FINDINGS, finding 2)."""
    kb = K1 * B / max(tokens_per_shard, 1.0)
    k1 = K1 * (1 - B) + kb
    return k1, kb / k1


def _agent_message(where: str, problems: list[str]) -> str:
    """One line naming the agents that failed: results without them would be partial."""
    agents = []
    for p in problems:
        m = re.search(r"agent ([^\s:]+:\d+)[:\s]+(.*)", p.replace("\n", " ").rstrip("\x00"))
        agents.append(f"{m.group(1)} ({m.group(2).strip().rstrip(';')[:120]})" if m else p)
    return (f"{where}: shard agent {', '.join(dict.fromkeys(agents))} did not answer; "
            f"refusing partial results")


class _Writer:
    """The :class:`searchnews.ingest.Writer` for Sphinx: rows are buffered and written per
    shard (deletes first, so a replaced article loses its old paragraphs); the manifest is
    saved in ``<name>_files`` after each commit, so it never gets ahead of the shards."""

    def __init__(self, engine: SphinxEngine, known: dict, fresh: bool):
        self.engine, self.known, self.fresh = engine, known, fresh
        self.n = len(engine.shards)
        self.rows: dict[str, list[tuple]] = {}
        self.deletes: set[str] = set()
        self.buffered = 0
        self.pending = 0
        self.saved = {p: json.dumps(e, sort_keys=True) for p, e in known.items()}

    def replace(self, a: Article) -> None:
        if not self.fresh:
            self.deletes.add(a.article_id)
        self.rows[a.article_id] = _rows(a)
        self.buffered += len(a.paragraphs)
        self.pending += len(a.paragraphs)
        if self.buffered >= ROWS_PER_FLUSH:
            self.flush()

    def delete(self, article_id: str) -> None:
        self.rows.pop(article_id, None)
        self.deletes.add(article_id)
        self.pending += 1

    def maybe_commit(self) -> None:
        if self.pending >= COMMIT_EVERY:
            self.commit()

    def flush(self) -> None:
        """Write what is buffered: each shard's deletes, then its rows, on every mirror."""
        for shard in range(self.n):
            keys = [article_key(a) for a in self.deletes if shard_of(a, self.n) == shard]
            rows = [r for a, rs in self.rows.items() if shard_of(a, self.n) == shard
                    for r in rs]
            for host, port in self.engine.shards[shard]:
                node = self.engine._writer(host, port)
                for i in range(0, len(keys), KEYS_PER_DELETE):
                    chunk = keys[i:i + KEYS_PER_DELETE]
                    node.run(f"DELETE FROM {self.engine.name}_shard WHERE article_key IN "
                             f"({','.join(map(str, chunk))})")
                for i in range(0, len(rows), ROWS_PER_STATEMENT):
                    chunk = rows[i:i + ROWS_PER_STATEMENT]
                    values = ",".join(["(" + ",".join(["%s"] * len(ROW_COLUMNS)) + ")"]
                                      * len(chunk))
                    node.run(f"REPLACE INTO {self.engine.name}_shard "
                             f"({','.join(ROW_COLUMNS)}) VALUES {values}",
                             [v for r in chunk for v in r])
        self.rows.clear()
        self.deletes.clear()
        self.buffered = 0

    def commit(self) -> None:
        self.flush()
        current = {p: json.dumps(e, sort_keys=True) for p, e in self.known.items()}
        changed: dict[str, dict | None] = {p: self.known[p] for p, s in current.items()
                                          if self.saved.get(p) != s}
        changed.update({p: None for p in self.saved if p not in current})
        if changed:
            self.engine._save_manifest(changed)
        self.saved = current
        self.pending = 0


ROW_COLUMNS = ("id", "title", "text", "words", "source", "article_key", "article_id",
               "paragraph", "n_paragraphs", "date", "date_iso", "title_raw", "title_derived",
               "text_raw", "source_name", "source_id", "url")


def _rows(a: Article) -> list[tuple]:
    """One row per paragraph, in ROW_COLUMNS order, analysed as the embedded engine does."""
    source = fold(" ".join(a.source.split())) if a.source else ""
    # a title derived from the text is shown, not searched (as in the embedded engine)
    searched = "" if a.title_derived else a.title
    title_terms, title_words = field_text(searched), field_text(searched, stem=False)
    key, day, n = article_key(a.article_id), day_number(a.date), len(a.paragraphs)
    return [(doc_id(a.article_id, i), title_terms, field_text(text),
             (title_words + " " + field_text(text, stem=False)).strip(),
             source_token(source) if source else "", key, _clean(a.article_id), i, n, day,
             a.date or "", _clean(a.title), int(a.title_derived), _clean(text),
             _clean(a.source if source else ""), source, _clean(a.url))
            for i, text in enumerate(a.paragraphs)]
