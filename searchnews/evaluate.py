"""Ranking quality, measured: ``searchnews eval``.

Every query goes through the search users get (``Index.search(query, limit=10,
syntax=False)``), and the ranked article ids are scored against the query's relevant
ids with MRR@10, Recall@1, Recall@10 and nDCG@10 — once for the queries as written and once
with their accents stripped (unidecode), since users often type without them.

Two kinds of query file (JSON lines):

* judged queries ``{"qid", "query", "relevant": [ids]}`` (e.g. squad-es);
* known-item headlines ``{"query", "article_id"}`` (``--headlines``): the article should be
  found from its headline, so the index is built **without titles** (else the match is trivial).

``--distractors FILE`` indexes more articles beside the judged documents, never relevant: the
judged set inside an archive, as a ranking meets it. Distractors are indexed *before* the
judged documents, so that an exact tie (broken by index order) goes to the distractor.
``--articles`` merges the judged documents that share a title into one whole article (squad-es:
Wikipedia paragraphs into their article), each query's relevant ids mapped to their article.

An article is found at the rank of its best paragraph (search groups hits by article), or of
the hit its text was folded into as a near-duplicate; seen again lower down, it counts once.
Hits keep the order search returns them in (Whoosh breaks equal scores by index order).
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Iterable, Iterator, Sequence, Union

import click
from unidecode import unidecode

from .articles import Article, iter_articles, read_file
from .errors import QueryError, SearchnewsError
from .engines import open_engine
from .engines.whoosh import Index

K = 10
METRICS = (f"mrr@{K}", "recall@1", f"recall@{K}", f"ndcg@{K}")
# The query variants scored: as written, and typed without accents.
VARIANTS: dict[str, Callable[[str], str]] = {"accented": lambda q: q, "accent_stripped": unidecode}
# A title with no word in it: no title terms are indexed, and none is derived from the text.
NO_TITLE = "-"
# One ranked hit: an id, or the ids it stands for (its article and the duplicates folded in).
Ranked = Sequence[Union[str, Collection[str]]]


@dataclass(frozen=True)
class EvalQuery:
    """One query and the ids of the articles (documents) that answer it."""

    qid: str
    text: str
    relevant: frozenset[str]


# -- metrics -------------------------------------------------------------------------------

def first_ranks(ranked: Ranked, relevant: Collection[str], k: int = K) -> list[int]:
    """1-based ranks, within the top ``k``, where each relevant id first appears (sorted;
    a hit that stands for several relevant ids gives its rank once per id)."""
    seen: set[str] = set()
    ranks = []
    for rank, item in enumerate(ranked[:k], 1):
        for doc_id in ([item] if isinstance(item, str) else item):
            if doc_id in relevant and doc_id not in seen:
                seen.add(doc_id)
                ranks.append(rank)
    return ranks


def reciprocal_rank(ranked: Ranked, relevant: Collection[str], k: int = K) -> float:
    """1 / rank of the first relevant id in the top ``k``; 0 when none is there."""
    ranks = first_ranks(ranked, relevant, k)
    return 1.0 / ranks[0] if ranks else 0.0


def recall(ranked: Ranked, relevant: Collection[str], k: int) -> float:
    """The share of relevant ids found in the top ``k``."""
    return len(first_ranks(ranked, relevant, k)) / len(relevant) if relevant else 0.0


def ndcg(ranked: Ranked, relevant: Collection[str], k: int = K) -> float:
    """Normalized DCG with binary gains: each relevant id earns 1/log2(rank + 1) once."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in first_ranks(ranked, relevant, k))
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(relevant), k) + 1))
    return min(1.0, dcg / ideal)   # > 1 only if one hit stands for several relevant ids


def query_metrics(ranked: Ranked, relevant: Collection[str]) -> dict[str, float]:
    """The four reported metrics for one query, keyed as in :data:`METRICS`."""
    return dict(zip(METRICS, (reciprocal_rank(ranked, relevant), recall(ranked, relevant, 1),
                              recall(ranked, relevant, K), ndcg(ranked, relevant))))


def mean_metrics(per_query: Iterable[dict[str, float]]) -> dict[str, float]:
    """Each metric averaged over the queries (0 for no query)."""
    rows = list(per_query)
    return {m: sum(r[m] for r in rows) / len(rows) if rows else 0.0 for m in METRICS}


# -- inputs ----------------------------------------------------------------------------------

def load_queries(path: Path, headlines: bool = False) -> list[EvalQuery]:
    """Judged queries, or (``headlines``) ``{"query", "article_id"}`` known-item queries."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise SearchnewsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SearchnewsError(f"{path}: not UTF-8 text") from None
    keys = ("query", "article_id") if headlines else ("qid", "query", "relevant")
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SearchnewsError(f"{path}:{lineno}: malformed JSON: {exc.msg}") from None
        if not isinstance(rec, dict) or any(k not in rec for k in keys):
            raise SearchnewsError(f"{path}:{lineno}: expected an object with "
                                  f"{', '.join(repr(k) for k in keys)}")
        relevant = [rec["article_id"]] if headlines else rec["relevant"]
        qid = rec["article_id"] if headlines else rec["qid"]
        out.append(EvalQuery(str(qid), str(rec["query"]), frozenset(map(str, relevant))))
    if not out:
        raise SearchnewsError(f"{path}: no queries in it")
    return out


def select_queries(queries: Sequence[EvalQuery], split: str | None = None,
                   sample: int | None = None) -> list[EvalQuery]:
    """The queries a run scores: with ``split``, every other one ("odd": the 1st, 3rd, 5th…
    of the file; "even": the 2nd, 4th…), so a lever tuned on one half can be checked on the
    other; then with ``sample``, ``sample`` of them spread evenly over what is left."""
    chosen = list(queries)
    if split is not None:
        chosen = chosen[0 if split == "odd" else 1::2]
    if sample is not None and sample < len(chosen):
        chosen = [chosen[i * len(chosen) // sample] for i in range(sample)]
    return chosen


def paragraph_records(articles: Iterable[Article], titles: bool = True) -> Iterator[dict]:
    """Paragraph records (corpus schema); without ``titles``, with a title that indexes no
    term."""
    for a in articles:
        for i, text in enumerate(a.paragraphs):
            yield {"article_id": a.article_id, "title": a.title if titles else NO_TITLE,
                   "date": a.date, "source": a.source, "url": a.url, "paragraph": i,
                   "text": text}


def merge_by_title(docs: Iterable[Article]) -> tuple[list[Article], dict[str, str]]:
    """Documents that share a title as one article each (paragraphs in the documents' order,
    the id, date, source and url of the first), and the article id of every document id."""
    groups: dict[str, list[Article]] = {}
    for d in docs:
        groups.setdefault(d.title, []).append(d)
    merged, article_of = [], {}
    for title, group in groups.items():
        first = group[0]
        merged.append(Article(first.article_id, title,
                              tuple(p for d in group for p in d.paragraphs),
                              first.date, first.source, first.url, first.path))
        article_of.update((d.article_id, first.article_id) for d in group)
    return merged, article_of


@dataclass(frozen=True)
class DistractorFile:
    """One ``--distractors`` file and what it adds to the index."""

    path: Path
    articles: int
    paragraphs: int


@dataclass
class EvalDocs:
    """What an evaluation indexes: the judged documents (``docs``), merged into whole
    articles or not, and the distractors, each file with its article ids checked not to
    collide, and titles indexed or not."""

    docs: Path
    titles: bool = True
    articles: bool = False
    distractors: list[DistractorFile] = field(default_factory=list)
    judged_ids: set[str] = field(default_factory=set)
    merged: list[Article] | None = None                            # with ``articles``
    article_of: dict[str, str] = field(default_factory=dict)       # doc id -> its article id
    distractor_of: dict[str, Path] = field(default_factory=dict)   # distractor id -> its file

    @classmethod
    def read(cls, docs: Path, distractors: Sequence[Path] = (), titles: bool = True,
             articles: bool = False) -> "EvalDocs":
        """Read the files through (ids, counts); a distractor id that is also a judged
        document's id, or another distractor file's, is an error."""
        out = cls(docs, titles, articles)
        if articles:
            judged = read_file(docs).articles
            out.merged, out.article_of = merge_by_title(judged)
            out.judged_ids = set(out.article_of)
        else:
            out.judged_ids = {a.article_id for a in iter_articles(docs)}
        for path in distractors:
            per_article: dict[str, int] = {}
            for a in iter_articles(path):
                per_article[a.article_id] = len(a.paragraphs)   # a later copy replaces one
            for aid in per_article:
                if aid in out.judged_ids:
                    raise SearchnewsError(f"{path}: distractor id '{aid}' is also a judged "
                                          f"document's id in {docs}: distractors need ids of "
                                          "their own")
                if aid in out.distractor_of:
                    raise SearchnewsError(f"{path}: distractor id '{aid}' is also in "
                                          f"{out.distractor_of[aid]}")
                out.distractor_of[aid] = path
            out.distractors.append(DistractorFile(path, len(per_article),
                                                  sum(per_article.values())))
        return out

    @property
    def documents(self) -> int:
        """How many judged documents are indexed (whole articles with ``articles``)."""
        return len(self.merged) if self.merged is not None else len(self.judged_ids)

    def judge(self, queries: Sequence[EvalQuery]) -> list[EvalQuery]:
        """The queries, relevant ids mapped to their article (with ``articles``), checked:
        no relevant id may name a distractor."""
        out = []
        for q in queries:
            for r in q.relevant:
                if r in self.distractor_of:
                    raise SearchnewsError(f"query {q.qid}: relevant id '{r}' is a distractor "
                                          f"(from {self.distractor_of[r]}); distractors are "
                                          "never relevant")
            out.append(EvalQuery(q.qid, q.text, frozenset(self.article_of.get(r, r)
                                                          for r in q.relevant)))
        return out

    def sources(self) -> list[tuple[Path, Callable[[], Iterable[Article]]]]:
        """Each file, in the order indexed (distractors first, judged last), with what it
        contributes: its articles, or the merged ones."""
        judged = (lambda: self.merged) if self.merged is not None else \
            (lambda: iter_articles(self.docs))
        return [(d.path, lambda p=d.path: iter_articles(p)) for d in self.distractors] + \
            [(self.docs, judged)]

    def records(self) -> Iterator[dict]:
        """Every paragraph record as indexed, in index order (for stock Whoosh)."""
        for _, articles in self.sources():
            yield from paragraph_records(articles(), self.titles)

    def describe(self) -> dict:
        """The variant, for the JSON output."""
        return {"docs": str(self.docs), "titles": self.titles, "articles": self.articles,
                "documents": self.documents,
                "distractors": [{"file": str(d.path), "articles": d.articles,
                                 "paragraphs": d.paragraphs} for d in self.distractors]}


def build_index(ix: Index, docs: EvalDocs) -> None:
    """Index the documents (any format searchnews reads), optionally leaving titles out.

    Merged articles, and articles without titles, are re-written as paragraph records (those
    without titles with a title that has no word: a missing title would be replaced by the
    first sentence, which would leak text into it); other files are indexed as they are.
    """
    with tempfile.TemporaryDirectory(prefix="searchnews-eval-") as tmp:
        paths: dict[str, Path] = {}           # what is indexed -> the file it stands for
        for n, (source, articles) in enumerate(docs.sources()):
            path = source
            if not docs.titles or (docs.merged is not None and source == docs.docs):
                path = Path(tmp) / f"{n}-{source.stem}.jsonl"
                with open(path, "w", encoding="utf-8") as fh:
                    for rec in paragraph_records(articles(), titles=docs.titles):
                        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            paths[str(path)] = source
        report = ix.add_paths(list(map(Path, paths)), wait=0)
    if report.failed:
        where, why = report.failed[0]
        for path, source in paths.items():      # a re-written file is named by its source
            if where == path or where.startswith(path + ":"):
                where = str(source)
        raise SearchnewsError(f"{where}: {why}")


@contextmanager
def eval_index(docs: EvalDocs | None, index_dir: Path | None, engine=None) -> Iterator[Index]:
    """The index to evaluate: ``engine``'s or ``index_dir`` as it is if it holds one
    (``docs`` unused), else one built from ``docs`` (there, kept for the next run, or into a
    temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="searchnews-eval-index-") as tmp:
        ix = engine if engine is not None else \
            Index(index_dir if index_dir is not None else Path(tmp) / "index")
        if not ix.exists:
            if docs is None:
                raise SearchnewsError("nothing to evaluate: give --docs FILE (or an existing "
                                      "--index)")
            build_index(ix, docs)
        try:
            yield ix
        finally:
            ix.close()


# -- running -------------------------------------------------------------------------------

def ranked_ids(ix: Index, text: str) -> list[frozenset[str]] | None:
    """Per top hit, in order, the article ids it stands for (its own and those of the
    duplicates folded into it); None when the query has no searchable word."""
    try:
        hits = ix.search(text, limit=K, syntax=False)
    except QueryError:
        return None
    return [frozenset([h.article_id, *(d["article_id"] for d in h.duplicates)]) for h in hits]


def titles_indexed(ix: Index) -> bool:
    """Whether any title is indexed (the engine's stats say)."""
    return ix.stats()["titles_indexed"]


def evaluate(ix: Index, queries: Sequence[EvalQuery], progress: bool = False) -> dict:
    """Mean metrics per query variant, with counts: the object ``--json`` prints."""
    started = time.monotonic()
    per_variant: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    unsearchable = 0
    todo: Iterable[EvalQuery] = queries
    if progress:
        from tqdm import tqdm
        todo = tqdm(queries, desc="queries", unit="q", file=sys.stderr, leave=False)
    for q in todo:
        for variant, rewrite in VARIANTS.items():
            ranked = ranked_ids(ix, rewrite(q.text))
            unsearchable += ranked is None and variant == "accented"
            per_variant[variant].append(query_metrics(ranked or [], q.relevant))
    stats = ix.stats()
    return {"queries": len(queries), "paragraphs": stats["paragraphs"],
            "titles_indexed": stats["titles_indexed"], "unsearchable": unsearchable,
            **{v: {m: round(x, 4) for m, x in mean_metrics(rows).items()}
               for v, rows in per_variant.items()},
            "elapsed": round(time.monotonic() - started, 1)}


def evaluate_stock(docs: EvalDocs, queries: Sequence[EvalQuery]) -> dict:
    """The same queries against stock Whoosh (:mod:`searchnews.stock`) over the same
    documents (distractors too), titles searched or not alike: mean metrics per variant."""
    from whoosh import index as whoosh_index

    from . import stock
    fields = ("title", "text") if docs.titles else ("text",)
    with tempfile.TemporaryDirectory(prefix="searchnews-eval-stock-") as tmp:
        stock.build(docs.records(), Path(tmp))
        with whoosh_index.open_dir(tmp).searcher() as searcher:
            return {variant: {m: round(x, 4) for m, x in mean_metrics(
                        query_metrics(stock.ranked_articles(searcher, rewrite(q.text), fields, K),
                                      q.relevant) for q in queries).items()}
                    for variant, rewrite in VARIANTS.items()}


def render_table(result: dict) -> str:
    """The result as a few lines for a terminal."""
    about = [f"titles {'indexed' if result['titles_indexed'] else 'not indexed'}"]
    variant = result.get("variant", {})
    if variant.get("articles"):
        about.append(f"{variant['documents']:,} judged whole articles")
    distractors = variant.get("distractors")
    if distractors:
        about.append(f"{sum(d['paragraphs'] for d in distractors):,} of them distractors")
    head = (f"{result['queries']:,} queries on {result['paragraphs']:,} paragraphs "
            f"({', '.join(about)}) in {result['elapsed']:.1f}s")
    if result["unsearchable"]:
        head += f"; {result['unsearchable']} with no searchable word (scored 0)"
    rows = [f"{'':<24}" + "".join(f"{m.upper().replace('RECALL', 'R'):>10}" for m in METRICS)]
    for label, metrics in [(v, result[v]) for v in VARIANTS] + \
            [(f"stock {v}", result["stock"][v]) for v in VARIANTS if "stock" in result]:
        rows.append(f"{label.replace('_', '-'):<24}"
                    + "".join(f"{metrics[m]:>10.4f}" for m in METRICS))
    return "\n".join([head, *rows])


@click.command("eval")
@click.option("--docs", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The collection: squad-style {id,title,text} lines or any article file.")
@click.option("--queries", "queries_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Judged queries: {qid, query, relevant:[ids]} lines.")
@click.option("--headlines", "headlines_path",
              type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Known-item queries {query, article_id}: each headline should find its "
                   "article in an index built without titles.")
@click.option("--distractors", "distractors", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Articles (any format searchnews reads) indexed beside --docs, never "
                   "relevant; their ids must differ from the judged ones. Repeatable.")
@click.option("--articles", is_flag=True,
              help="Merge the judged documents that share a title into one article each "
                   "(paragraphs in file order), relevant ids mapped to their article.")
@click.option("--titles/--no-titles", default=True, show_default=True,
              help="Index the documents' titles, distractors' too (always off with "
                   "--headlines).")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Use this index if it exists, else build it here from --docs "
                                 "(default: a temporary index).")
@click.option("--engine", "engine_url", default=None, metavar="URL",
              help="Evaluate on this engine (whoosh:///PATH, sphinx://HOST:PORT/INDEX): its "
                   "index as it is if it holds one, else built there from --docs.")
@click.option("--stock", is_flag=True,
              help="Also run the queries against stock Whoosh (LanguageAnalyzer(\"es\"), "
                   "BM25F, an OR query of the words) over the same documents.")
@click.option("--split", type=click.Choice(["odd", "even"]), default=None,
              help="Score every other query only: the 1st, 3rd, 5th… (odd) or the 2nd, "
                   "4th… (even), to tune on one half and check on the other.")
@click.option("--sample", type=click.IntRange(min=1), default=None, metavar="N",
              help="Score N queries spread evenly over the file (after --split).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def eval_cmd(docs: Path | None, queries_path: Path | None, headlines_path: Path | None,
             distractors: tuple[Path, ...], articles: bool, titles: bool,
             index_dir: Path | None, engine_url: str | None, stock: bool, split: str | None,
             sample: int | None, as_json: bool) -> None:
    """Measure ranking quality: MRR@10, Recall@1/@10, nDCG@10, with and without accents."""
    run_eval(docs, queries_path, headlines_path, titles, index_dir, stock, as_json,
             distractors=distractors, articles=articles, split=split, sample=sample,
             engine_url=engine_url)


def run_eval(docs: Path | None, queries_path: Path | None, headlines_path: Path | None,
             titles: bool, index_dir: Path | None, stock: bool, as_json: bool,
             distractors: Sequence[Path] = (), articles: bool = False,
             split: str | None = None, sample: int | None = None,
             engine_url: str | None = None) -> None:
    """The body of ``searchnews eval`` (errors are raised; the command group reports them)."""
    if (queries_path is None) == (headlines_path is None):
        raise SearchnewsError("give exactly one of --queries FILE and --headlines FILE")
    if stock and docs is None:
        raise SearchnewsError("--stock builds its index from --docs FILE: give it")
    if articles and headlines_path is not None:
        raise SearchnewsError("--articles merges judged documents by title: use it with "
                              "--queries (headline queries already find whole articles)")
    for flag, given in (("--distractors", distractors), ("--articles", articles)):
        if given and index_dir is not None:
            raise SearchnewsError(f"{flag} builds an index of its own: omit --index")
        if given and docs is None:
            raise SearchnewsError(f"{flag} needs the judged documents: give --docs FILE")
    if engine_url is not None and index_dir is not None:
        raise SearchnewsError("give --index (an embedded index) or --engine URL, not both")
    headlines = headlines_path is not None
    queries = select_queries(load_queries(headlines_path or queries_path, headlines=headlines),
                             split, sample)
    engine = open_engine(engine_url) if engine_url is not None else None
    reused = engine.exists if engine is not None else \
        index_dir is not None and Index(index_dir).exists
    where = engine.path if engine is not None else f"{index_dir}/"
    for flag, given in (("--distractors", distractors), ("--articles", articles)):
        if given and reused:
            raise SearchnewsError(f"{flag} builds an index of its own, and {where} holds one "
                                  f"already: evaluate on an empty engine")
    if reused and docs is not None:
        click.echo(f"searchnews: evaluating {where} as it is (--docs not read"
                   f"{', but for --stock' if stock else ''})", err=True)
    collection = None if docs is None or (reused and not stock) else \
        EvalDocs.read(docs, distractors, titles=titles and not headlines, articles=articles)
    if collection is not None:
        queries = collection.judge(queries)
    with eval_index(collection, index_dir, engine) as ix:
        if headlines and titles_indexed(ix):
            raise SearchnewsError(f"{ix.path}/ indexes titles, so a headline would find its "
                                  "own article trivially: evaluate headlines on a body-only "
                                  "index (omit --index, or name a new folder)")
        result = evaluate(ix, queries, progress=not as_json and sys.stderr.isatty())
    result["variant"] = {"queries": str(headlines_path or queries_path), "headlines": headlines,
                         "split": split, "sample": sample,
                         "index": str(engine.path if engine is not None else index_dir)
                         if reused else None,
                         **(collection.describe() if collection is not None and not reused
                            else {"docs": None})}
    if stock:
        result["stock"] = evaluate_stock(collection, queries)
    click.echo(json.dumps(result) if as_json else render_table(result))
