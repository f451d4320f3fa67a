"""Hits → terminal text or JSON lines.

On a terminal, matched words are bold red (like ripgrep) and titles bold. When stdout is not a
terminal, or NO_COLOR is set, matches are marked ``[[like this]]`` so they stay visible in
plain text, pipes and files.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from typing import Sequence

import click

from .search import Hit

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


def render_hit(hit: Hit, color: bool, width: int | None = None) -> str:
    """Three lines a hit: rank and title; date, source, paragraph, score; the snippet."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    excerpt, excerpt_spans = snippet(hit.text, hit.highlights)

    def styled(marked: str, bold: bool = False) -> str:
        if color:
            plain = marked.replace(_OPEN, "\x1b[1;31m").replace(_CLOSE, "\x1b[0m" + ("\x1b[1m" if bold else ""))
            return ("\x1b[1m" + plain + "\x1b[0m") if bold else plain
        return marked.replace(_OPEN, MARK_OPEN).replace(_CLOSE, MARK_CLOSE)

    title = styled(mark(hit.title, hit.title_highlights), bold=True)
    meta = [hit.date or "undated"]
    if hit.source:
        meta.append(hit.source)
    meta.append(f"¶{hit.paragraph + 1}/{hit.n_paragraphs}" if hit.n_paragraphs
                else f"¶{hit.paragraph + 1}")
    meta.append(hit.article_id)
    meta.append(f"score {hit.score:.2f}")
    meta_line = " · ".join(meta)
    if color:
        meta_line = click.style(meta_line, dim=True)
    body = textwrap.fill(mark(excerpt, excerpt_spans), width=max(40, width - 4),
                         initial_indent="    ", subsequent_indent="    ")
    return f"{hit.rank:>2}. {title}\n    {meta_line}\n{styled(body)}"


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
