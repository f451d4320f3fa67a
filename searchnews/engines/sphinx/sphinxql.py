"""What Sphinx is sent: ids and tokens of the rows, and the pipeline's Whoosh query trees
and :class:`~searchnews.filters.Filter` values in SphinxQL over the same terms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zlib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from whoosh import query as Q

from ...analysis import terms
from ...errors import QueryError
from ...filters import Filter


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
