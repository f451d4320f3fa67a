"""The ``searchnews`` command: a thin layer over :class:`searchnews.Index`.

Exit codes follow grep: 0 found, 1 nothing found, 2 error (one line on stderr, no traceback).
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Callable

import click

from . import __version__, batch
from .errors import SearchnewsError
from .engines import engine_url, open_engine
from .engines.whoosh import Index
from .ingest import DEFAULT_WAIT, IndexReport
from .output import article_json, hit_json, render_article, render_hit, render_stats

DEFAULT_SEEDS = Path("seeds")


def fail(message: str, one_line: bool = True) -> None:
    """A message on stderr, on one line unless asked otherwise: control characters that it
    quotes (a query's line break or escape sequence) are shown escaped, never obeyed."""
    shown = _CONTROL.sub(lambda m: m.group() if m.group() == "\n" and not one_line
                         else repr(m.group())[1:-1], message)
    click.echo(f"searchnews: {shown}", err=True)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def index_option(fn: Callable) -> Callable:
    """--index DIR and --engine URL: where the index lives."""
    fn = click.option("--engine", "engine", metavar="URL", default=None,
                      help="A search server instead of the embedded index, e.g. "
                           "sphinx://127.0.0.1:9306/noticias (default: $SEARCHNEWS_ENGINE).")(fn)
    return click.option("--index", "index_dir",
                        type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Index folder (default: $SEARCHNEWS_INDEX, else ./index).")(fn)


class Searchnews(click.Group):
    """The command group, which holds the error policy for every command (those defined
    elsewhere, ``eval`` and ``sphinx``, included): a failure is one line on stderr and exit
    code 2, never a traceback; click's own usage errors and exits pass through; a reader
    that closes the pipe early ends the command quietly."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort):
            raise
        except SearchnewsError as exc:
            fail(f"error: {exc}")
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted")
            sys.exit(130)
        except BrokenPipeError:
            # the reader stopped early (`| head`): it has what it wanted, as with ripgrep;
            # stdout goes to /dev/null so the interpreter's last flush fails no more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # noqa: BLE001 - last resort: still no traceback for users
            if os.environ.get("SEARCHNEWS_DEBUG"):
                traceback.print_exc()
            fail(f"internal error: {type(exc).__name__}: {exc} "
                 f"(set SEARCHNEWS_DEBUG=1 for details)")
            sys.exit(2)


@click.group(cls=Searchnews, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="searchnews")
def main() -> None:
    """Full-text search for Spanish news: index articles, query ranked, highlighted paragraphs."""


def _progress_bar(quiet: bool):
    """A tqdm bar on stderr when it is a terminal (bytes read, paragraphs/s, ETA)."""
    if quiet or not sys.stderr.isatty():
        return None, None, None
    from tqdm import tqdm
    bar = tqdm(total=0, unit="B", unit_scale=True, file=sys.stderr, desc="indexing",
               dynamic_ncols=True, leave=False)
    counted = {"paragraphs": 0}

    def on_total(total: int) -> None:
        bar.total = total
        bar.refresh()

    def progress(nbytes: int, paragraphs: int) -> None:
        counted["paragraphs"] += paragraphs
        rate = bar.format_dict.get("elapsed") or 0
        bar.set_postfix_str(f"{counted['paragraphs']:,} ¶"
                            + (f", {counted['paragraphs'] / rate:,.0f} ¶/s" if rate else ""),
                            refresh=False)
        bar.update(nbytes)
    return bar, on_total, progress


def run_index(ix: Index, paths: list[str], rebuild: bool = False, wait: float = DEFAULT_WAIT,
              quiet: bool = False) -> IndexReport:
    bar, on_total, progress = _progress_bar(quiet)
    try:
        return ix.add_paths(paths, rebuild=rebuild, wait=wait, progress=progress,
                            on_total=on_total)
    finally:
        if bar is not None:
            bar.close()


def summary_line(r: IndexReport) -> str:
    return (f"{r.added} added, {r.updated} updated, {r.removed} removed, {r.unchanged} unchanged, "
            f"{len(r.failed)} failed ({r.paragraphs:,} paragraphs indexed) in {r.elapsed:.1f}s "
            f"→ {r.index}/")


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@index_option
@click.option("--rebuild", is_flag=True,
              help="Build from scratch into a fresh folder, then swap it in atomically.")
@click.option("--wait", type=click.FloatRange(min=0), default=DEFAULT_WAIT, show_default=True,
              help="Seconds to wait for another indexer to finish.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as a JSON object.")
def index_cmd(paths: tuple[str, ...], index_dir: Path | None, engine: str | None, rebuild: bool,
              wait: float, quiet: bool, as_json: bool) -> None:
    """Index article files and folders (default: seeds/), incrementally.

    Only what changed since the last run is processed; articles whose file disappeared from a
    folder given here are removed. Exit code 2 if any file failed (the others are indexed).
    """
    report = run_index(open_engine(engine, index_dir), list(paths) or [str(DEFAULT_SEEDS)],
                       rebuild, wait, quiet)
    for warning in report.warnings:
        fail(f"warning: {warning}")
    for path, reason in report.failed:
        fail(f"error: {path}: {reason}")
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    elif not quiet:
        click.echo(summary_line(report), err=True)
    sys.exit(2 if report.failed else 0)


def use_color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and \
        os.environ.get("TERM") != "dumb"


def _open_default(index_dir: Path | None, engine: str | None):
    """The index to query; the default embedded one is built from seeds/ on first use."""
    ix = open_engine(engine, index_dir)
    default = index_dir is None and not engine and not engine_url() \
        and not os.environ.get("SEARCHNEWS_INDEX")
    if default and not ix.exists and DEFAULT_SEEDS.is_dir():
        fail(f"no index yet: building {ix.path}/ from {DEFAULT_SEEDS}/ first")
        report = run_index(ix, [str(DEFAULT_SEEDS)])
        for path, reason in report.failed:
            fail(f"error: {path}: {reason}")
    return ix


color_option = click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto",
    show_default=True, help="Colour matches (auto: only on a terminal, not with NO_COLOR).")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="One JSON object per line (see the README).")


@main.command("query")
@click.argument("query", required=False)
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many hits (articles, or paragraphs with --paragraphs).")
@json_option
@click.option("-w", "--words", is_flag=True,
              help="Take the query as plain words: quotes, operators and fields are text.")
@click.option("--since", metavar="DATE", help="Only articles dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", metavar="DATE", help="Only articles dated on or before (YYYY[-MM[-DD]]).")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only this outlet (repeatable; accents and case ignored).")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True, help="Best first, or newest first.")
@click.option("--paragraphs", is_flag=True,
              help="List every matching paragraph instead of the best one per article.")
@click.option("--no-dedup", is_flag=True,
              help="Keep near-identical paragraphs (the same story in several outlets) apart.")
@click.option("--explain", is_flag=True,
              help="Show on stderr how the query was parsed and which terms it searches.")
@click.option("--batch", type=click.File("rb"), metavar="FILE",
              help="Run every query of FILE (a query a line, or JSONL with id and query; - for "
                   "stdin) and write JSONL hits tagged with query_id.")
@color_option
def query_cmd(query: str | None, index_dir: Path | None, engine: str | None, limit: int,
              as_json: bool, words: bool,
              since: str | None, until: str | None, sources: tuple[str, ...], sort: str,
              paragraphs: bool, no_dedup: bool, explain: bool, batch, color: str) -> None:
    """Search the index; print ranked paragraphs with the matched words highlighted.

    Exit code 0 when something was found, 1 when nothing was, 2 on an error.
    """
    if (query is None) == (batch is None):
        raise click.UsageError("give a QUERY or --batch FILE (not both)")
    ix = _open_default(index_dir, engine)
    options = dict(limit=limit, since=since, until=until, sources=sources, sort=sort,
                   group=not paragraphs, dedup=not no_dedup, syntax=not words)
    if batch is not None:
        sys.exit(run_batch(ix, batch, options))
    if explain:
        fail("explain:\n" + ix.explain(query, syntax=not words, since=since, until=until,
                                        sources=sources), one_line=False)
    hits = ix.search(query, more=0 if as_json else 2, **options)
    print_hits(hits, as_json, color, f"no paragraph matches: {query}" +
               (f" ({hits.note})" if hits.note else ""))
    if hits.note and as_json:
        click.echo(json.dumps({"note": hits.note, "query": query}, ensure_ascii=False))
    if hits.suggestion:
        if as_json:
            click.echo(json.dumps({"did_you_mean": hits.suggestion, "query": query},
                                  ensure_ascii=False))
        else:
            fail(f"did you mean: {hits.suggestion}")
    sys.exit(0 if hits else 1)


def print_hits(hits: list, as_json: bool, color: str, nothing: str) -> None:
    """Hits as JSON lines, or as text (with ``nothing`` on stderr when there are none)."""
    if as_json:
        for h in hits:
            click.echo(hit_json(h))
        return
    colored = use_color(color)
    if hits:
        click.echo("\n\n".join(render_hit(h, colored) for h in hits), color=colored)
    else:
        fail(nothing)


def run_batch(ix: Index, lines, options: dict) -> int:
    """JSONL hits for each query of a file, tagged ``query_id``; the index is opened once
    (once per worker process for a long batch: :mod:`searchnews.batch`). A query that fails
    gives a line with ``error`` and the others still run."""
    bad: list[int] = []

    def queries():
        for lineno, raw in enumerate(lines, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                fail(f"error: batch line {lineno}: not UTF-8 text ({exc.reason} at byte "
                     f"{exc.start + 1})")
                bad.append(lineno)
                continue
            qid, text = lineno, line.strip()
            if not text:
                continue
            if text.startswith("{"):
                try:
                    record = json.loads(text)
                    qid = record.get("id", record.get("qid", lineno))
                    text = record["query"]
                except (ValueError, KeyError, AttributeError):
                    fail(f"error: batch line {lineno}: expected a query or a JSON object with "
                         f"\"query\"")
                    bad.append(lineno)
                    continue
            yield qid, text

    found = failed = False
    for out, hit, error in batch.run(ix, queries(), options, batch_lines):
        if out:
            click.echo("\n".join(out))
        found, failed = found or hit, failed or error
    return 2 if failed or bad else (0 if found else 1)


def batch_lines(qid: object, hits) -> tuple[list[str], bool, bool]:
    """A batch query's JSON lines, whether it found something, whether it failed."""
    if isinstance(hits, SearchnewsError):
        return [json.dumps({"query_id": qid, "error": str(hits)}, ensure_ascii=False)], \
            False, True
    out = [json.dumps({"query_id": qid, **h.to_dict()}, ensure_ascii=False) for h in hits]
    if hits.suggestion:
        out.append(json.dumps({"query_id": qid, "did_you_mean": hits.suggestion},
                              ensure_ascii=False))
    if hits.note:
        out.append(json.dumps({"query_id": qid, "note": hits.note}, ensure_ascii=False))
    return out, bool(hits), False


@main.command("show")
@click.argument("article_id")
@index_option
@click.option("-p", "--paragraph", type=click.IntRange(min=1), metavar="N",
              help="Mark paragraph N (counted from 1, as in the ¶ of query results).")
@json_option
@color_option
def show_cmd(article_id: str, index_dir: Path | None, engine: str | None, paragraph: int | None,
             as_json: bool, color: str) -> None:
    """Print a whole article, with one paragraph marked."""
    article = _open_default(index_dir, engine).article(article_id)
    if article is None:
        raise SearchnewsError(f"no article '{article_id}' in the index")
    if paragraph is not None and paragraph > len(article.paragraphs):
        raise SearchnewsError(f"article '{article_id}' has {len(article.paragraphs)} paragraphs, "
                              f"not {paragraph}")
    if as_json:
        click.echo(article_json(article))
    else:
        colored = use_color(color)
        click.echo(render_article(article, paragraph - 1 if paragraph else None, colored),
                   color=colored)


@main.command("similar")
@click.argument("article_id")
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=10, show_default=True)
@json_option
@color_option
def similar_cmd(article_id: str, index_dir: Path | None, engine: str | None, limit: int,
                as_json: bool, color: str) -> None:
    """Articles related to one article (more like this), with snippets."""
    hits = _open_default(index_dir, engine).similar(article_id, limit=limit)
    print_hits(hits, as_json, color, f"nothing similar to {article_id}")
    sys.exit(0 if hits else 1)


@main.command("stats")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as a JSON object.")
def stats_cmd(index_dir: Path | None, engine: str | None, as_json: bool) -> None:
    """What the index holds: articles, paragraphs, terms, size, sources, dates."""
    stats = open_engine(engine, index_dir).stats()
    click.echo(json.dumps(stats, ensure_ascii=False) if as_json else render_stats(stats))


@main.command("check")
@index_option
@click.option("--repair", is_flag=True,
              help="Rebuild a damaged index from the files it was built from.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as a JSON object.")
def check_cmd(index_dir: Path | None, engine: str | None, repair: bool, as_json: bool) -> None:
    """Read every file of the embedded index and compare it with the checksum written at
    its commit. Exit 0 when it is sound (or was repaired), 2 when it is damaged."""
    ix = open_engine(engine, index_dir)
    if not isinstance(ix, Index):
        raise SearchnewsError("check reads the embedded index's files: a search server "
                              "checks its own")
    result = ix.check(repair=repair)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    elif not result["damaged"]:
        click.echo(f"{result['index']}/: sound ({result['files']} files match their "
                   f"checksums)")
    else:
        for line in result["damaged"]:
            fail(f"damaged: {line}")
        if result["repaired"]:
            lost = result["missing_files"]
            click.echo(f"{result['index']}/: rebuilt from {result['rebuilt_from']} files"
                       + (f"; {lost} files it was built from are gone, their articles with "
                          f"them" if lost else ""))
        elif not repair:
            fail(f"repair it with 'searchnews check --repair --index {result['index']}'")
    sys.exit(0 if not result["damaged"] or result["repaired"] else 2)



from .evaluate import eval_cmd  # noqa: E402  (`searchnews eval`)

main.add_command(eval_cmd)

from .engines.sphinx.conf import sphinx_cmd  # noqa: E402  (the Sphinx cluster's configs and processes)

main.add_command(sphinx_cmd)
