"""Query → ranked hits with highlight spans, whatever the engine (:mod:`searchnews.backend`).

Ranking is BM25F over the paragraph text and its article's title. Paragraphs that match every
word of the query come before those that match only some (a query whose words are not all in
any paragraph still returns the best partial matches), and the best POOL candidates are
re-ranked together (ranking.py: proximity, adjacency, exact spelling, coordination). Results
are grouped by article (its best paragraph, and how many more matched) and near-identical
paragraphs — the same wire story in several outlets — are folded into one hit that lists
where else it appeared.

Highlights are character spans into the stored paragraph, so the surface words that matched
(``COOPERACIÓN``, ``norcoreanos``) are marked whatever their accents or number. Prefix
(``cooperaci*``) and fuzzy (``Pyongyng~``) words are expanded through the vocabulary of
indexed words (vocabulary.py) by the parser (query.py).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from whoosh import query as Q

from . import duplicates
from .analysis import WORD_RE, fold, term
from .backend import SUGGESTIONS, Backend
from .errors import NothingToSearch, QueryError
from .evidence import QueryWords
from .filters import Filter
from .highlight import spans_at
from .query import _OPERATOR, FIELD_NAMES, TEXT_FIELDS, WORDS, ParsedQuery, parse, \
    plain_words, positive_terms
from .ranking import rerank, spelling_idf
from .records import Hit, Results
from .vocabulary import Vocabulary

POOL = 400                 # BM25F candidates of a query re-ranked (ranking.rerank)
DEDUP_SPARE = 5            # hits fetched beyond the page, to replace folded duplicates
REFILL = 64                # at most this many pages' worth looked at to fill one
SIMILAR_TERMS = 20         # distinctive terms of an article that "similar" searches for

Ranked = list[tuple[int, float | None]]


def search(backend: Backend, text: str, limit: int = 10, since: str | None = None,
           until: str | None = None, sources: Sequence[str] = (), sort: str = "relevance",
           group: bool = True, dedup: bool = True, syntax: bool = True,
           more: int = 0) -> Results:
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
    flt = Filter.of(since, until, sources)
    if not backend.doc_count():          # nothing indexed yet, or every article removed
        return Results.nothing("the index holds no paragraphs")
    try:
        typed = parse(backend, text, syntax)
    except NothingToSearch as exc:
        return Results.nothing(str(exc))
    suggests = SUGGESTIONS in backend.capabilities
    unknown = suggests and _has_unknown_word(backend, typed)
    parsed, suggestion = with_corrections(backend, typed, syntax, unknown) if suggests \
        else (typed, None)
    marked = _marked_terms(parsed)
    want = limit + DEDUP_SPARE if dedup else limit    # dedup may fold some candidates away
    ranked = _ranking(backend, parsed, want, flt, group, sort)
    seen: dict[int, tuple] = {}
    while True:
        hits = _hits(backend, ranked[:want], marked, dedup, limit, seen)
        # the same story printed many times folds a page away: look deeper for the rest,
        # as much deeper as the folding so far says it takes (a ranking holds more than
        # was asked when its pool had more: those are taken first, in the same order)
        if len(hits) >= limit or len(ranked) < want or want >= limit * REFILL:
            break
        need = want * limit * 3 // (2 * max(len(hits), 1))    # at the rate seen, and half
        want = min(limit * REFILL, max(want * 2, need))
        if len(ranked) < want:
            ranked = _ranking(backend, parsed, want, flt, group, sort)
    if group and hits:
        _attach_others(backend, parsed.q_any, hits, more, marked)
    if suggestion and hits:
        hits.suggestion = suggestion
    elif suggests and (len(hits) < min(3, limit) or unknown):
        hits.suggestion = suggest(backend, backend.vocabulary(), typed.text,
                                  rare=0 if hits else 2)
    return hits


def _ranking(backend: Backend, parsed: ParsedQuery, want: int, flt: Filter, group: bool,
             sort: str) -> Ranked:
    """The best ``want`` (docnum, score) — or more, when the relevance ranking's pool holds
    more — by relevance or newest first: then the undated come after the dated (in
    relevance order) unless a date range was asked for, and scores are None."""
    if sort != "date":
        return _relevance(backend, parsed, want, flt, group)
    tiers = [parsed.q_all, parsed.q_any]
    ranked = _ranked(backend, tiers, want, flt.but(dated=True), group, by_date=True,
                     first_tier_only=True)
    if len(ranked) < want and not flt.has_dates:
        ranked += _ranked(backend, tiers, want - len(ranked), flt.but(dated=False), group,
                          first_tier_only=True)
    return [(docnum, None) for docnum, _ in ranked]


def with_corrections(backend: Backend, parsed: ParsedQuery, syntax: bool, unknown: bool
                     ) -> tuple[ParsedQuery, str | None]:
    """The query to rank with, and the "did you mean" it used (None if none): in a query of
    several words, a word found in no paragraph (a typo, another spelling of a name) can only
    match through its suggested word, so that word is searched too, as one more optional
    word. The word as typed stays, so no paragraph counts as having every word, and the user
    still sees the suggestion; a query of one unknown word is left alone (it finds nothing
    and says "did you mean"). ``unknown``: whether the query has such a word."""
    if len(parsed.words) < 2 or not unknown:
        return parsed, None
    fixed = suggest(backend, backend.vocabulary(), parsed.text)
    typed = set(WORD_RE.findall(parsed.text))
    extra = [w for w in WORD_RE.findall(fixed or "") if w not in typed]
    if not extra:
        return parsed, fixed
    return parse(backend, parsed.text + " " + " ".join(extra), syntax), fixed


def similar(backend: Backend, article_id: str, limit: int = 10) -> Results:
    """Articles about the same thing (more like this): the article's most distinctive terms
    as a weighted OR query, the article itself left out, grouped by article and
    deduplicated like a query."""
    keys = backend.key_terms(article_id, SIMILAR_TERMS)
    if not keys:
        return Results()
    q = Q.Or([Q.Term("text", t, boost=w) for t, w in keys])
    ranked = _ranked(backend, [q], limit * 2 + 5, Filter(exclude_article=article_id),
                     group=True)
    stems = {t for t, _ in keys}
    return _hits(backend, ranked, {"title": stems, "text": stems, WORDS: set()}, True, limit)


# -- ranking ---------------------------------------------------------------------------------

def _relevance(backend: Backend, parsed: ParsedQuery, want: int, flt: Filter, group: bool
               ) -> list[tuple[int, float]]:
    """Candidates by BM25F in tiers, re-ranked with their evidence (a query of one word
    keeps BM25F's order), best paragraph per article with ``group``."""
    q = QueryWords.of(parsed.words, parsed.surfaces)
    rescore = None
    if q.pairs:
        idf = backend.idf("text", q.words)
        surface_idf = spelling_idf(q, idf, backend.spelling_frequencies(q.surfaces),
                                   backend.doc_count_all())
        rescore = lambda docs, scores, tiers: rerank(         # noqa: E731
            scores, backend.evidence(docs, q), q, idf, surface_idf, tiers)
    return ordered([parsed.q_all, parsed.q_any],
                   lambda query, limit: backend.candidates(query, limit, flt),
                   backend.article_keys if group else None, rescore, want)


def _ranked(backend: Backend, tiers: list[Q.Query], want: int, flt: Filter, group: bool,
            by_date: bool = False, first_tier_only: bool = False) -> list[tuple[int, float]]:
    """The best ``want`` (docnum, score) in the engine's order (``by_date``: newest first,
    scores 0), not re-ranked; ``first_tier_only``: a later tier only when the earlier found
    nothing."""
    def fetch(q: Q.Query, limit: int) -> tuple[np.ndarray, np.ndarray]:
        docs, scores = backend.candidates(q, limit, flt, by_date)
        return docs, np.zeros(len(docs)) if by_date else scores

    return ordered(tiers, fetch, backend.article_keys if group else None, None, want,
                   first_tier_only)[:want]


def ordered(tiers: list[Q.Query],
            fetch: Callable[[Q.Query, int], tuple[np.ndarray, np.ndarray]],
            article_keys: Callable[[np.ndarray], np.ndarray] | None,
            rescore: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None,
            want: int, first_tier_only: bool = False) -> list[tuple[int, float]]:
    """(docnum, score) best first, each tier's matches after the earlier tier's (all words,
    then any word): the best candidates (``fetch``: docnums and scores, best first), a POOL
    of them when ``rescore`` re-scores them together (docnums, scores, tier of each;
    :func:`searchnews.ranking.rerank`); with ``article_keys`` (docnums → a value per
    article), only the best paragraph per article. A later tier is fetched only when the
    earlier have too few articles (``first_tier_only``: none). At least ``want`` when there
    are: the whole (re-ranked) pool, which a deeper look takes first. The one loop that
    looks deeper, whatever the order."""
    tiers = list(dict.fromkeys(tiers))
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
            if i and first_tier_only and len(taken):
                break
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


# -- hits ------------------------------------------------------------------------------------

def _hits(backend: Backend, ranked: Ranked, marked: dict[str, set[str]], dedup: bool,
          limit: int, seen: dict[int, tuple] | None = None) -> Results:
    """The ranked paragraphs as hits, near-duplicates folded into the better ranked, the
    first ``limit`` highlighted; stored fields are read for what is shown only. ``seen``
    keeps what the engine told of each document, for a deeper look at the same query."""
    docs = [docnum for docnum, _ in ranked]
    page = {} if seen is None else seen      # docnum → (signature, text marks, title marks)
    # the first look marks the words of all it folds (most are shown); a deeper one reads
    # the new paragraphs' signatures only, and marks those that are shown
    marks = _marks(marked) if not page else {}
    new = [d for d in (docs if dedup else docs[:limit]) if d not in page]
    found = backend.page(new, marks, codes=dedup)
    page.update(zip(new, zip(found["codes"] if dedup else new,
                             *([found["text"], found["title"]] if marks else
                               [[None] * len(new)] * 2))))
    groups = duplicates.fold([page[d][0] for d in docs]) if dedup else \
        [[i] for i in range(len(docs))]
    groups = groups[:limit]
    unmarked = [docs[g[0]] for g in groups if page[docs[g[0]]][1] is None]
    if unmarked:
        found = backend.page(unmarked, _marks(marked))
        for d, text, title in zip(unmarked, found["text"], found["title"]):
            page[d] = (page[d][0], text, title)
    wanted = [docs[i] for g in groups for i in g]
    stored = dict(zip(wanted, backend.stored(wanted)))
    hits = Results()
    for rank, group in enumerate(groups, 1):
        hit = _hit(stored[docs[group[0]]], docs[group[0]], ranked[group[0]][1])
        hit.rank = rank
        hit.duplicates = [_hit(stored[docs[i]], docs[i], None).place() for i in group[1:]]
        _, text, title = page[hit.docnum]
        hit.highlights = spans_at(hit.text, text)
        hit.title_highlights = spans_at(hit.title, title)
        hits.append(hit)
    return hits


def _marks(marked: dict[str, set[str]]) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per searched field, the stems and the spellings to highlight."""
    return {f: (frozenset(marked[f]), frozenset(marked[WORDS])) for f in TEXT_FIELDS}


def _hit(d: dict, docnum: int, score: float | None) -> Hit:
    """A paragraph's hit from its stored fields, not highlighted yet."""
    return Hit(rank=0, score=score, article_id=d["article_id"],
               title=d.get("title") or d.get("derived_title") or "", date=d.get("date_iso"),
               source=d.get("source_name"), url=d.get("url"), paragraph=d["paragraph"],
               text=d["text"], n_paragraphs=d.get("n_paragraphs", 0), docnum=docnum)


def _attach_others(backend: Backend, q: Q.Query, hits: list[Hit], more: int,
                   marked: dict[str, set[str]]) -> None:
    """Count each hit's matching paragraphs in its article and, when ``more``, attach the
    best others, highlighted."""
    found_of = backend.article_matches(q, [h.docnum for h in hits], more > 0)
    for hit, found in zip(hits, found_of):
        found = sorted(found, reverse=True)
        hit.matches = max(1, len(found))
        others = [(sc, d) for sc, d in found if d != hit.docnum][:more]
        if others:
            docs = [d for _, d in others]
            page = backend.page(docs, _marks(marked))
            hit.others = []
            for (sc, d), stored, text, title in zip(others, backend.stored(docs),
                                                     page["text"], page["title"]):
                other = _hit(stored, d, sc)
                other.highlights = spans_at(other.text, text)
                other.title_highlights = spans_at(other.title, title)
                hit.others.append(other)
            hit.others.sort(key=lambda h: h.paragraph)


def _marked_terms(parsed: ParsedQuery) -> dict[str, set[str]]:
    """What to highlight: the stems of the query's positive words per field, and the
    indexed words its prefix and fuzzy words expanded to."""
    out: dict[str, set[str]] = {"title": set(), "text": set(), WORDS: set(parsed.expanded)}
    for fieldname, item in positive_terms(parsed.q_any):
        if fieldname in out and isinstance(item, str):
            out[fieldname].add(item)
    return out


# -- suggestions -----------------------------------------------------------------------------

def _has_unknown_word(backend: Backend, parsed: ParsedQuery) -> bool:
    """Whether a word of the query is in no paragraph (checked on the index, so the
    vocabulary is loaded only when there is something to correct)."""
    for m in plain_words(parsed.text):
        stem = term(m.group())
        if stem and backend.doc_frequency("text", stem) == 0 \
                and backend.doc_frequency("title", stem) == 0:
            return True
    return False


def suggest(backend: Backend, vocabulary: Vocabulary, text: str, rare: int = 0
            ) -> str | None:
    """The query with each unknown word (or, with ``rare``, each word in at most that many
    paragraphs) replaced by the most frequent indexed word one edit away — two for words of
    six letters or more — spelled with its accents (``coperacion`` → ``cooperación``);
    None when nothing would change."""
    changed = False
    out = []
    last = 0
    for m in plain_words(text):
        w = m.group()
        folded, stem = term(w, stem=False), term(w)
        replacement = w
        if folded and stem and backend.doc_frequency("text", stem) <= rare:
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

def explain(backend: Backend, text: str, syntax: bool = True, since: str | None = None,
            until: str | None = None, sources: Sequence[str] = ()) -> str:
    """How a query is parsed, which index terms each word becomes and the filter applied,
    for ``--explain``."""
    flt = Filter.of(since, until, sources)
    parsed = parse(backend, text, syntax)
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
    if flt.describe() is not None:
        lines.append(f"filter:     {flt.describe()}")
    return "\n".join(lines + backend.describe(parsed.q_all, parsed.q_any))

