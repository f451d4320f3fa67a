"""Files → Article records.

Formats (documented in the README): ``.txt`` and ``.md`` (optional YAML front matter between
``---`` lines), ``.json`` (one article or a list), ``.jsonl`` (one article per line, or one
paragraph per line in the corpus schema). Field names common scrapers write are accepted.
Every problem is an :class:`ArticleError` naming the file, the line where known, and why.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from .errors import ArticleError

FORMATS = (".txt", ".md", ".json", ".jsonl")

# Accepted field names, first match wins: the corpus schema, then what scrapers
# (news-please, newspaper3k, common feeds) and Spanish-speaking users write.
ALIASES: dict[str, tuple[str, ...]] = {
    "article_id": ("article_id", "id", "_id", "uuid"),
    "title": ("title", "headline", "titulo", "título"),
    "date": ("date", "date_publish", "date_published", "published", "published_at",
             "pubdate", "fecha"),
    "source": ("source", "source_domain", "source_name", "outlet", "fuente"),
    "url": ("url", "link", "enlace"),
    "text": ("text", "maintext", "body", "content", "texto", "paragraphs", "cuerpo"),
}

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[¿¡\"«“A-ZÁÉÍÓÚÑ0-9])")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Article:
    """One news article, split into paragraphs; each paragraph becomes one indexed document."""

    article_id: str
    title: str
    paragraphs: tuple[str, ...]
    date: str | None = None          # ISO YYYY-MM-DD
    source: str | None = None
    url: str | None = None
    path: str | None = None          # the file it was read from
    title_derived: bool = False      # the title is the text's first sentence: not indexed

    @functools.cached_property
    def content_hash(self) -> str:
        """Changes when anything indexed of the article changes (not the file's mtime)."""
        payload = json.dumps([self.title, self.date, self.source, self.url, self.paragraphs,
                              self.title_derived], ensure_ascii=False)
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()


@dataclass
class FileArticles:
    """What one file gave: its articles and the problems that skipped parts of it."""

    path: str
    articles: list[Article] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_files(path: str | os.PathLike) -> Iterator[Path]:
    """The article files under a path: the file itself, or a folder's files, recursively.

    Hidden files and folders are skipped; inside folders, files of other formats are too,
    and whatever is not a regular file (a named pipe would block the indexer for ever).
    """
    p = Path(path)
    if not p.exists():
        raise ArticleError(str(path), "no such file or folder")
    if p.is_file():
        yield p
        return
    if not p.is_dir():
        raise ArticleError(str(path), "not a regular file or folder (a pipe, socket or device)")
    for dirpath, dirnames, filenames in os.walk(p):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(FORMATS) \
                    and (Path(dirpath) / name).is_file():
                yield Path(dirpath) / name


def _check_text(path: Path, data: bytes, offset: int = 0, line: int | None = None) -> str:
    """Decode UTF-8, refusing binary data with a clear reason."""
    if b"\x00" in data[:8192]:
        raise ArticleError(str(path), "binary file, not text")
    try:
        return data.decode("utf-8-sig" if offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        line = line if line is not None else data[: exc.start].count(b"\n") + 1
        raise ArticleError(str(path), f"not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                                      f"offset {offset + exc.start}); convert it with iconv",
                           line) from None


def _open(path: Path):
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ArticleError(str(path), f"cannot read: {exc.strerror or exc}") from None


def iter_articles(path: str | os.PathLike, root: str | os.PathLike | None = None,
                  warnings: list[str] | None = None) -> Iterator[Article]:
    """Stream the articles of one file; a problem raises :class:`ArticleError` when reached.

    ``root`` (the folder being indexed) makes derived ids stable. JSONL is read line by line,
    so an archive far larger than memory can be indexed. Within a file a later copy of an
    article replaces an earlier one (the indexer keeps the last).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise ArticleError(str(p), f"unsupported format '{suffix or p.name}' "
                                   f"(expected {', '.join(FORMATS)})")
    base_id = derived_id(p, root)
    warnings = warnings if warnings is not None else []
    count = 0
    if suffix == ".jsonl":
        articles = _jsonl_articles(p, base_id, warnings)
    else:
        with _open(p) as fh:
            text = _check_text(p, fh.read())
        if not text.strip():
            raise ArticleError(str(p), "empty file")
        if suffix in (".txt", ".md"):
            articles = iter([_read_plain(p, text, base_id, markdown=suffix == ".md")])
        else:
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ArticleError(str(p), f"malformed JSON: {exc.msg} (column {exc.colno})",
                                   exc.lineno) from None
            records = doc if isinstance(doc, list) else [doc]
            articles = _from_records(p, base_id, ((None, r) for r in records), warnings)
    for article in articles:
        count += 1
        yield article
    if not count:
        fields = "" if suffix in (".txt", ".md") else \
            f" (text looked for in: {', '.join(ALIASES['text'])})"
        raise ArticleError(str(p), f"no article with text in it{fields}")


def read_file(path: str | os.PathLike, root: str | os.PathLike | None = None) -> FileArticles:
    """All articles of one file (a later copy of an article replacing an earlier one)."""
    result = FileArticles(str(path))
    latest: dict[str, Article] = {}
    for article in iter_articles(path, root, result.warnings):
        latest.pop(article.article_id, None)
        latest[article.article_id] = article
    result.articles = list(latest.values())
    return result


def derived_id(p: Path, root: str | os.PathLike | None) -> str:
    """The id of an article whose file gives none: its path within the folder it was found
    in (or its name), without the extension."""
    if root is not None and Path(root).is_dir():
        try:
            rel = p.resolve().relative_to(Path(root).resolve())
            return rel.with_suffix("").as_posix()
        except ValueError:
            pass
    return p.with_suffix("").name


def _jsonl_articles(p: Path, base_id: str, warnings: list[str]) -> Iterator[Article]:
    with _open(p) as fh:
        records = _jsonl_records(p, fh)
        yield from _from_records(p, base_id, records, warnings)


def _jsonl_records(p: Path, fh) -> Iterator[tuple[int, Any]]:
    offset, seen_text = 0, False
    for lineno, raw in enumerate(fh, 1):
        line = _check_text(p, raw, offset, lineno)
        offset += len(raw)
        if not line.strip():
            continue
        seen_text = True
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ArticleError(str(p), f"malformed JSON: {exc.msg} (column {exc.colno})",
                               lineno) from None
    if not seen_text:
        raise ArticleError(str(p), "empty file")


def _from_records(p: Path, base_id: str, records: Iterable[tuple[int | None, Any]],
                  warnings: list[str]) -> Iterator[Article]:
    """JSON records → articles. Paragraph records (corpus schema) of one article must be
    consecutive, as the corpora write them, so that a file is read in one streaming pass."""
    current: str | None = None
    parts: list[tuple[int, str]] = []
    first: tuple[dict, int | None] = ({}, None)
    finished: set[str] = set()

    def flush() -> Article | None:
        meta = _metadata(p, *first)
        paragraphs = [t.strip() for _, t in sorted(parts, key=lambda x: x[0]) if _WORD.search(t)]
        finished.add(current)
        if not paragraphs:
            warnings.append(f"{p}: article {current} has no text, skipped")
            return None
        return _article(current, meta, paragraphs, p)

    for n, (lineno, rec) in enumerate(records):
        if not isinstance(rec, dict):
            raise ArticleError(str(p), f"expected a JSON object, got {type(rec).__name__}", lineno)
        if isinstance(rec.get("paragraph"), int) and isinstance(rec.get("text"), str):
            aid = _get(rec, "article_id")
            if aid is None:
                raise ArticleError(str(p), "paragraph record without article_id", lineno)
            aid = str(aid)
            if aid != current:
                if current is not None and (a := flush()):
                    yield a
                if aid in finished:
                    raise ArticleError(str(p), f"paragraphs of article '{aid}' are not "
                                               f"together: keep each article's lines adjacent",
                                       lineno)
                current, parts, first = aid, [], (rec, lineno)
            parts.append((rec["paragraph"], rec["text"]))
            continue
        article = _article_from_record(p, rec, base_id, n, lineno, warnings)
        if article is not None:
            yield article
    if current is not None and (a := flush()):
        yield a


def _article_from_record(p: Path, rec: dict, base_id: str, n: int, lineno: int | None,
                         warnings: list[str]) -> Article | None:
    where = f"{p}:{lineno}" if lineno else str(p)
    body = _get(rec, "text")
    if isinstance(body, list):
        paragraphs = [str(x).strip() for x in body if _WORD.search(str(x))]
    elif isinstance(body, str):
        paragraphs = split_paragraphs(body)
    elif body is None:
        paragraphs = []
    else:
        raise ArticleError(str(p), f"'text' must be a string or a list, got {type(body).__name__}",
                           lineno)
    meta = _metadata(p, rec, lineno)
    aid = _get(rec, "article_id")
    aid = str(aid) if aid is not None else (meta["url"] or (base_id if n == 0 else f"{base_id}#{n}"))
    if not paragraphs:
        warnings.append(f"{where}: article {aid} has no text, skipped")
        return None
    return _article(aid, meta, paragraphs, p)


def _get(rec: dict, name: str) -> Any:
    for key in ALIASES[name]:
        value = rec.get(key)
        if value not in (None, ""):
            return value
    return None


def _metadata(p: Path, rec: dict, lineno: int | None = None) -> dict[str, str | None]:
    def text(name: str) -> str | None:
        value = _get(rec, name)
        return " ".join(str(value).split()) if value is not None else None

    return {"title": text("title"), "source": text("source"), "url": text("url"),
            "date": parse_date(_get(rec, "date"), p, lineno)}


def parse_date(value: Any, path: Path | str = "", lineno: int | None = None) -> str | None:
    """An article date as ISO ``YYYY-MM-DD`` (time of day is dropped)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    s = str(value).strip()
    try:
        return dt.datetime.fromisoformat(s.replace("/", "-")).date().isoformat()
    except ValueError:
        pass
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", s)
    if m:
        try:
            return dt.date(*map(int, m.groups())).isoformat()
        except ValueError:
            pass
    raise ArticleError(str(path), f"invalid date '{s}' (expected YYYY-MM-DD)", lineno)


def split_paragraphs(text: str) -> list[str]:
    """Blank lines separate paragraphs when there are any (hard-wrapped text); else each line
    is one. Lines with no word in them (rules, stray punctuation) are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _BLANK_LINE.search(text.strip()):
        blocks = [" ".join(b.split()) for b in _BLANK_LINE.split(text)]
    else:
        blocks = [" ".join(line.split()) for line in text.split("\n")]
    return [b for b in blocks if _WORD.search(b)]


MAX_PARAGRAPH = 10_000    # characters; the longest paragraph of the shared corpora has 8,365


def within_size(paragraphs: list[str], limit: int = MAX_PARAGRAPH) -> list[str]:
    """The paragraphs, each longer than ``limit`` characters split where its sentences end
    (a sentence longer still, between words; a word longer still, anywhere): a file of one
    50 MB line would otherwise be one paragraph that every query touching it reads whole."""
    out: list[str] = []
    for text in paragraphs:
        if len(text) <= limit:
            out.append(text)
            continue
        chunk = ""
        for piece in _pieces(text, limit):
            if chunk and len(chunk) + 1 + len(piece) > limit:
                out.append(chunk)
                chunk = ""
            chunk = f"{chunk} {piece}" if chunk else piece
        out.append(chunk)
    return out


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Sentences of at most ``limit`` characters (long ones cut between words, or within)."""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            yield sentence[:cut].rstrip()
            sentence = sentence[cut:].lstrip()
        if sentence:
            yield sentence


def _article(article_id: str, meta: dict[str, str | None], paragraphs: list[str], p: Path
             ) -> Article:
    """An article from its metadata; without a title, its first sentence is shown as one.
    Paragraphs past :data:`MAX_PARAGRAPH` characters are split (:func:`within_size`)."""
    paragraphs = within_size(paragraphs)
    return Article(article_id, meta["title"] or _title_from(paragraphs), tuple(paragraphs),
                   meta["date"], meta["source"], meta["url"], str(p),
                   title_derived=not meta["title"])


def _title_from(paragraphs: list[str], limit: int = 120) -> str:
    """The first sentence of the text, cut at a word boundary when long."""
    first = _SENTENCE_END.split(paragraphs[0], maxsplit=1)[0].strip()
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _read_plain(p: Path, text: str, base_id: str, markdown: bool) -> Article:
    meta: dict[str, Any] = {}
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end < 0:
            raise ArticleError(str(p), "front matter opened with '---' is never closed")
        try:
            meta = yaml.safe_load(text[4:end]) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise ArticleError(str(p), f"bad front matter: {getattr(exc, 'problem', exc)}",
                               mark.line + 2 if mark else None) from None
        if not isinstance(meta, dict):
            raise ArticleError(str(p), "front matter must be 'key: value' lines")
        text = text[end + 4:].split("\n", 1)[1] if "\n" in text[end + 4:] else ""
    lines = text.split("\n")
    if markdown:
        # A leading '# Heading' is the title; other headings keep their words.
        stripped = [ln for ln in lines if ln.strip()]
        if stripped and stripped[0].startswith("# ") and not _get(meta, "title"):
            meta["title"] = stripped[0][2:].strip()
            lines.remove(stripped[0])
        lines = [re.sub(r"^#{1,6}\s+", "", ln) for ln in lines]
    paragraphs = split_paragraphs("\n".join(lines))
    if not paragraphs:
        raise ArticleError(str(p), "no text after the front matter")
    info = _metadata(p, meta)
    aid = _get(meta, "article_id")
    return _article(str(aid) if aid is not None else base_id, info, paragraphs, p)
