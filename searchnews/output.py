"""Hits → terminal text or JSON lines.

On a terminal, matched words are bold red (like ripgrep) and titles bold. When stdout is not a
terminal, or NO_COLOR is set, matches are marked ``[[like this]]`` so they stay visible in
plain text, pipes and files.
"""

from __future__ import annotations

import functools
import json
import shutil
import textwrap
from typing import Sequence

import click

from .records import Hit

MARK_OPEN, MARK_CLOSE = "[[", "]]"
SNIPPET_CHARS = 320
# Private-use characters stand for the marks while wrapping, then become colour or brackets.
_OPEN, _CLOSE = "\ue000", "\ue001"


def mark(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Insert placeholder marks around each span (spans sorted, not overlapping)."""
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], _OPEN, text[start:end], _CLOSE]
        last = end
    out.append(text[last:])
    return "".join(out)


def snippet(text: str, spans: Sequence[tuple[int, int]], width: int = SNIPPET_CHARS
            ) -> tuple[str, list[tuple[int, int]]]:
    """The part of a paragraph with the most matches in ``width`` characters, cut at spaces.

    Returns the excerpt (with '…' where cut) and the spans shifted into it.
    """
    if len(text) <= width:
        return text, list(spans)
    best, best_start = -1, 0
    for s, _ in spans or [(0, 0)]:
        start = max(0, s - width // 4)
        count = sum(1 for a, b in spans if a >= start and b <= start + width)
        if count > best:
            best, best_start = count, start
    start = best_start
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return prefix + text[start:end] + suffix, inside


def _styler(color: bool):
    """Turn placeholder marks into ANSI colour (bold red, like ripgrep) or [[brackets]]."""
    def styled(marked: str, bold: bool = False) -> str:
        if not color:
            return marked.replace(_OPEN, MARK_OPEN).replace(_CLOSE, MARK_CLOSE)
        after = "\x1b[0m" + ("\x1b[1m" if bold else "")
        plain = marked.replace(_OPEN, "\x1b[1;31m").replace(_CLOSE, after)
        return ("\x1b[1m" + plain + "\x1b[0m") if bold else plain
    return styled


def _dim(text: str, color: bool) -> str:
    return click.style(text, dim=True) if color else text


def _where(date: str | None, source: str | None, paragraph: int, n_paragraphs: int) -> list[str]:
    meta = [date or "undated"]
    if source:
        meta.append(source)
    meta.append(f"¶{paragraph + 1}/{n_paragraphs}" if n_paragraphs else f"¶{paragraph + 1}")
    return meta


def render_hit(hit: Hit, color: bool, width: int | None = None) -> str:
    """A hit: rank and title; date, source, ¶, id, score; the snippet; then the article's
    other matching paragraphs and the places the same text also appeared."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    styled = _styler(color)
    wrap = functools.partial(textwrap.fill, width=max(40, width - 4),
                             initial_indent="    ", subsequent_indent="    ")
    excerpt, excerpt_spans = snippet(hit.text, hit.highlights)
    meta = _where(hit.date, hit.source, hit.paragraph, hit.n_paragraphs)
    meta.append(hit.article_id)
    if hit.score is not None:
        meta.append(f"score {hit.score:.2f}")
    if hit.matches > 1:
        meta.append(f"{hit.matches} paragraphs match")
    lines = [f"{hit.rank:>2}. {styled(mark(hit.title, hit.title_highlights), bold=True)}",
             "    " + _dim(" · ".join(meta), color),
             styled(wrap(mark(excerpt, excerpt_spans)))]
    for other in hit.others:
        short, short_spans = snippet(other.text, other.highlights, width=160)
        lines.append(styled(wrap(mark(short, short_spans),
                                 initial_indent=f"    ¶{other.paragraph + 1}: ")))
    if hit.matches > 1 + len(hit.others):
        lines.append(_dim(f"    (+{hit.matches - 1 - len(hit.others)} more paragraphs: "
                          f"searchnews show {hit.article_id})", color))
    for dup in hit.duplicates:
        where = " · ".join(_where(dup["date"], dup["source"], dup["paragraph"], 0))
        lines.append(_dim(f"    also in: {dup['title']} ({where} · {dup['article_id']})", color))
    return "\n".join(lines)


def render_article(article, paragraph: int | None, color: bool, width: int | None = None) -> str:
    """A whole article for ``show``: header, then numbered paragraphs, the chosen one marked."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    head = [click.style(article.title, bold=True) if color else article.title,
            _dim(" · ".join([article.date or "undated"] + [x for x in (article.source, article.url)
                                                          if x] + [article.article_id]), color),
            ""]
    body = []
    for i, text in enumerate(article.paragraphs):
        chosen = i == paragraph
        marker = ">" if chosen else " "
        block = textwrap.fill(text, width=max(40, width - 7), initial_indent=f"{marker}{i + 1:>3}. ",
                              subsequent_indent="      ")
        body.append(click.style(block, bold=True) if chosen and color else block)
    return "\n".join(head) + "\n" + "\n\n".join(body)


def article_json(article) -> str:
    return json.dumps({"article_id": article.article_id, "title": article.title,
                       "date": article.date, "source": article.source, "url": article.url,
                       "paragraphs": list(article.paragraphs)}, ensure_ascii=False)


def hit_json(hit: Hit) -> str:
    return json.dumps(hit.to_dict(), ensure_ascii=False)


def render_stats(stats: dict) -> str:
    lines = [f"index:       {stats['index']}",
             f"articles:    {stats['articles']:,}",
             f"paragraphs:  {stats['paragraphs']:,}",
             f"terms:       {stats['terms']:,}",
             f"files:       {stats['files']:,}",
             f"size:        {stats['size_bytes'] / 1e6:.1f} MB",
             f"dates:       {stats['date_first'] or '-'} … {stats['date_last'] or '-'}",
             f"updated:     {stats['updated'] or '-'}",
             f"sources:     {len(stats['sources']):,}"]
    for name, n in list(stats["sources"].items())[:10]:
        lines.append(f"  {n:>8,}  {name}")
    return "\n".join(lines)
