#!/usr/bin/env python3
"""Deterministic corpus scaler: build a realistic N-paragraph Spanish news archive.

New articles are recombined from the real text in ../shared/corpora (fakenews_es and ancora_ud):
each article takes a real "donor" article's paragraphs in order, mixed with real paragraphs from
other articles and new paragraphs made of 2-3 real sentences. Titles are real headlines or the
opening words of a real sentence, sources and URL domains are real outlets, dates are spread
uniformly over 2000-2025. The output is JSON lines in the corpus schema
{"article_id","title","date","source","url","paragraph","text"}, streamed to disk;
the same seed and inputs give a byte-identical file.

    python bench/scale_corpus.py --paragraphs 100000 --seed 42 --out bench/data/corpus-100k.jsonl
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
import time
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

CORPORA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
SOURCE_FILES = ("fakenews_es/paragraphs.jsonl", "ancora_ud/paragraphs.jsonl")
OUTLETS_FILE = "fakenews_es/articles.jsonl"

FIRST_DAY = dt.date(2000, 1, 1).toordinal()
LAST_DAY = dt.date(2025, 12, 31).toordinal()
P_DONOR = 0.65        # next paragraph comes from the donor article (topical coherence)
P_SENTENCES = 0.15    # ... or is a new paragraph of 2-3 real sentences; else any real paragraph
P_REAL_TITLE = 0.45   # title is the donor's real headline (when it has one)

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[¿¡\"«“A-ZÁÉÍÓÚÑ])")
MASK = "*NUMBER*"
DANGLING = frozenset("a al con de del el en la las lo los o para por que se su sus un una y".split())
_dumps = json.JSONEncoder(ensure_ascii=False).encode


@dataclass
class Pool:
    """Real text to draw from; paragraphs are kept pre-encoded as JSON strings."""
    articles: list[tuple[str | None, list[int]]] = field(default_factory=list)  # (title, para idx)
    paragraphs: list[str] = field(default_factory=list)   # raw text
    encoded: list[str] = field(default_factory=list)      # json-encoded text
    sentences: list[str] = field(default_factory=list)
    outlets: list[tuple[str, str]] = field(default_factory=list)  # (source, domain), per article


def _unmask(text: str, rng: random.Random) -> str:
    """Replace fakenews_es's *NUMBER* masks with plausible numbers."""
    while MASK in text:
        text = text.replace(MASK, str(rng.choice((rng.randint(2, 31), rng.randint(10, 999),
                                                   rng.randint(1990, 2025)))), 1)
    return text


def load_pool(corpora: Path, seed: int) -> Pool:
    """Read the real corpora (in file order, so the result is deterministic)."""
    rng = random.Random(f"unmask-{seed}")
    pool = Pool()
    by_article: dict[str, int] = {}
    for rel in SOURCE_FILES:
        with open(corpora / rel, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                text = _unmask(rec["text"], rng)
                if rec["article_id"] not in by_article:
                    by_article[rec["article_id"]] = len(pool.articles)
                    title = _unmask(rec["title"], rng) if rec["title"] else None
                    pool.articles.append((title, []))
                pool.articles[by_article[rec["article_id"]]][1].append(len(pool.paragraphs))
                pool.paragraphs.append(text)
                pool.encoded.append(_dumps(text))
                pool.sentences.extend(s for s in SENTENCE_END.split(text) if len(s) > 30)
    with open(corpora / OUTLETS_FILE, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["source"] and rec["url"]:
                domain = urllib.parse.urlsplit(rec["url"]).netloc
                pool.outlets.append((rec["source"].strip(), domain))
    return pool


def slugify(text: str, words: int = 8) -> str:
    """ASCII URL slug of the first few words."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)[:words]) or "nota"


def make_title(donor_title: str | None, lead: str, rng: random.Random) -> str:
    """A real headline, or the opening words of a sentence of the lead paragraph."""
    if donor_title and rng.random() < P_REAL_TITLE:
        return donor_title
    words = rng.choice(SENTENCE_END.split(lead)).split()[: rng.randint(6, 14)]
    while len(words) > 3 and words[-1].lower() in DANGLING:
        words.pop()
    title = " ".join(words).rstrip(" ,;:.-—(\"«")
    return title[:1].upper() + title[1:]


def generate(pool: Pool, n_paragraphs: int, seed: int) -> Iterator[str]:
    """Yield exactly n_paragraphs JSON lines, article by article."""
    rng = random.Random(seed)
    rnd, randrange = rng.random, rng.randrange
    n_arts, n_paras, n_sents = len(pool.articles), len(pool.paragraphs), len(pool.sentences)
    written, art_no = 0, 0
    while written < n_paragraphs:
        art_no += 1
        donor_title, donor = pool.articles[randrange(n_arts)]
        length = min(max(1, len(donor) + rng.randint(-len(donor) // 2, 3)),
                     n_paragraphs - written)
        source, domain = pool.outlets[randrange(len(pool.outlets))]
        day = dt.date.fromordinal(rng.randint(FIRST_DAY, LAST_DAY))
        start = randrange(len(donor))
        title = make_title(donor_title, pool.paragraphs[donor[start]], rng)
        article_id = f"sn{seed}-{art_no:07d}"
        url = (f"https://{domain}/{day:%Y/%m/%d}/"
               f"{slugify(title)}-{art_no}")
        head = (f'{{"article_id": "{article_id}", "title": {_dumps(title)}, '
                f'"date": "{day.isoformat()}", "source": {_dumps(source)}, '
                f'"url": {_dumps(url)}, "paragraph": ')
        for i in range(length):
            r = rnd()
            if r < P_DONOR:
                text = pool.encoded[donor[(start + i) % len(donor)]]
            elif r < P_DONOR + P_SENTENCES:
                text = _dumps(" ".join(pool.sentences[randrange(n_sents)]
                                       for _ in range(rng.randint(2, 3))))
            else:
                text = pool.encoded[randrange(n_paras)]
            yield f'{head}{i}, "text": {text}}}\n'
        written += length


def write_corpus(out: Path, n_paragraphs: int, seed: int, corpora: Path = CORPORA_DIR) -> None:
    """Stream the scaled corpus to out (via a temporary file, renamed at the end)."""
    pool = load_pool(corpora, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
        batch: list[str] = []
        for line in generate(pool, n_paragraphs, seed):
            batch.append(line)
            if len(batch) >= 10_000:
                fh.write("".join(batch))
                batch.clear()
        fh.write("".join(batch))
    os.replace(tmp, out)


def parse_count(text: str) -> int:
    """Accept 10000, 10k, 1m, 1M."""
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * mult)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", required=True, type=parse_count, help="e.g. 10000, 100k, 1m")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--corpora", type=Path, default=CORPORA_DIR, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    missing = [rel for rel in (*SOURCE_FILES, OUTLETS_FILE) if not (args.corpora / rel).is_file()]
    if missing:
        print(f"scale_corpus: error: real corpora not found: {args.corpora / missing[0]} "
              f"(expected ../shared/corpora beside the project)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    write_corpus(args.out, args.paragraphs, args.seed, args.corpora)
    print(f"wrote {args.paragraphs} paragraphs to {args.out} "
          f"({args.out.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
