#!/usr/bin/env python3
"""Derive the fixed benchmark query mix from fakenews_es, mechanically and with a fixed seed.

Kinds (25 each by default), written as JSON lines to bench/queries.jsonl:
  one     one content word of a real headline
  multi   the 2-3 content words of a noun phrase found in a real paragraph (unquoted, AND)
  phrase  a real noun phrase, quoted, e.g. "ministro de economía"
  date    a one-word or multi query with a since/until window (whole years in 2000-2025,
          the span scale_corpus.py spreads dates over)
Candidates are sampled by frequency of occurrence (as users ask about what is written about),
never hand-picked. Re-run only when the mix is meant to change:

    python bench/make_queries.py [--seed 7] [--per-kind 25] [--out bench/queries.jsonl]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

from whoosh.lang import stopwords_for_language

BENCH_DIR = Path(__file__).resolve().parent
FAKENEWS = BENCH_DIR.parent.parent / "shared" / "corpora" / "fakenews_es"
STOP = frozenset(stopwords_for_language("es")) | {"ser", "dice", "tras", "sólo", "solo", "así"}

WORD = r"[A-Za-zÁÉÍÓÚÑÜáéíóúñü]{4,}"
ADJ = r"[a-záéíóúñü]{3,}(?:al|ales|ico|ica|icos|icas|ano|ana|anos|anas|ivo|iva|ivos|ivas|ario|aria|ente|entes|oso|osa|ista|istas|ense|enses|ino|ina|ero|era|ados?|adas?|idos?|idas?)"
# determiner + noun (+ adjective) (+ "de" (+ determiner) + noun (+ adjective))
NOUN_PHRASE = re.compile(
    rf"\b(?:el|la|los|las|un|una|del|al)\s+"
    rf"(?P<phrase>(?P<n1>{WORD})(?:\s+(?P<a1>{ADJ}))?"
    rf"(?:\s+de\s+(?:(?:la|el|los|las)\s+)?(?P<n2>{WORD})(?:\s+(?P<a2>{ADJ}))?)?)\b")
HEADLINE_WORD = re.compile(WORD)
YEARS = (2000, 2025)


def unmask(text: str) -> str:
    """Drop fakenews_es's *NUMBER* masks so they never become query words."""
    return text.replace("*NUMBER*", " ")


def content(words: list[str | None]) -> list[str]:
    """Lowercased words that are present and not stopwords."""
    return [w.lower() for w in words if w and w.lower() not in STOP]


def noun_phrases(paragraphs: list[str]) -> list[tuple[str, list[str]]]:
    """(phrase, content words) for every noun phrase with >= 2 content words, in text order."""
    found = []
    for text in paragraphs:
        for m in NOUN_PHRASE.finditer(text):
            words = content([m["n1"], m["a1"], m["n2"], m["a2"]])
            if len(words) >= 2 and m["n1"].lower() not in STOP:
                found.append((m["phrase"].lower(), words))
    return found


def sample_unique(rng: random.Random, items: list[str], k: int) -> list[str]:
    """Draw from items (with their repetition as weight) until k distinct values."""
    picked: list[str] = []
    while len(picked) < k:
        item = rng.choice(items)
        if item not in picked:
            picked.append(item)
    return picked


def make_queries(seed: int, per_kind: int) -> list[dict]:
    """The query mix as a list of specs."""
    rng = random.Random(seed)
    with open(FAKENEWS / "articles.jsonl", encoding="utf-8") as fh:
        headlines = [unmask(t) for t in (json.loads(line)["title"] for line in fh) if t]
    with open(FAKENEWS / "paragraphs.jsonl", encoding="utf-8") as fh:
        paragraphs = [unmask(json.loads(line)["text"]) for line in fh]
    head_words = [w for h in headlines for w in content(HEADLINE_WORD.findall(h))]
    phrases = noun_phrases(paragraphs)
    multi_pool = [" ".join(words[:3]) for _, words in phrases]

    ones = sample_unique(rng, head_words, per_kind)
    multis = sample_unique(rng, multi_pool, per_kind)
    quoted = sample_unique(rng, [f'"{p}"' for p, _ in phrases], per_kind)
    specs = [{"kind": "one", "query": q} for q in ones]
    specs += [{"kind": "multi", "query": q} for q in multis]
    specs += [{"kind": "phrase", "query": q} for q in quoted]
    dated = sample_unique(rng, [q for q in head_words + multi_pool if q not in ones + multis],
                          per_kind)
    for q in dated:
        first = rng.randint(YEARS[0], YEARS[1] - 1)
        last = min(YEARS[1], first + rng.randint(0, 4))
        specs.append({"kind": "date", "query": q,
                      "since": f"{first}-01-01", "until": f"{last}-12-31"})
    return specs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-kind", type=int, default=25)
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "queries.jsonl")
    args = ap.parse_args(argv)
    if not FAKENEWS.is_dir():
        print(f"make_queries: error: corpus not found: {FAKENEWS}", file=sys.stderr)
        return 2
    specs = make_queries(args.seed, args.per_kind)
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in specs)
    print(f"wrote {len(specs)} queries to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
