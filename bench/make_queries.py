#!/usr/bin/env python3
"""Derive the fixed benchmark query mix from fakenews_es, mechanically and with a fixed seed.

Kinds (25 each by default), written as JSON lines to bench/queries.jsonl:
  one       one content word of a real headline
  multi     the 2-3 content words of a noun phrase found in a real paragraph (unquoted, AND)
  phrase    a real noun phrase, quoted, e.g. "ministro de economía"
  date      a one-word or multi query with a since/until window (whole years in 2000-2025,
            the span scale_corpus.py spreads dates over)
  title     2-3 content words of one real article title, in title order, not necessarily
            adjacent (unquoted, AND), e.g. "zavala renuncia presidencial"
  headline  a whole headline of fakenews_es/queries_headline.jsonl, as pasted
  question  a whole squad-es question, as typed, e.g. "¿Dónde tuvo lugar el Super Bowl 50?"
The first four kinds are drawn first, so they stay what they were before the last three were
added. Also writes bench/title_queries.txt: 1,000 distinct queries of 1-3 content words of one
title each (own generator, same seed), one per line, for the one-process --batch measurement.
Content words are lowercased, letters only (>= 4), not stopwords; fakenews_es's *NUMBER*
masks are dropped, also from headlines. Candidates are sampled by frequency of occurrence (as
users ask about what is written about; title kinds: a title uniformly, then its words), never
hand-picked. Re-run only when the mix is meant to change:

    python bench/make_queries.py [--seed 7] [--per-kind 25] [--out bench/queries.jsonl]
                                 [--batch-queries 1000] [--batch-out bench/title_queries.txt]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

from whoosh.lang import stopwords_for_language

from benchlib import (FAKENEWS_DIR as FAKENEWS, QUERIES_FILE, SQUAD_QUERIES, TITLE_QUERIES_FILE,
                      read_jsonl)

STOP = frozenset(stopwords_for_language("es")) | {"ser", "dice", "tras", "sólo", "solo", "así"}
# Whoosh's list has "como", "donde"... but not their accented interrogatives; the title kinds
# leave these out too (the older kinds keep STOP alone, so they stay as they were drawn).
TITLE_STOP = STOP | {"cómo", "cuál", "cuáles", "dónde", "cuándo", "quién", "quiénes", "cuánto",
                     "cuánta", "cuántos", "cuántas", "aquí", "allí", "ahí", "después",
                     "además", "según"}

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


def pasted(text: str) -> str:
    """A headline as a user would paste it: masks dropped, whitespace single and trimmed."""
    return " ".join(unmask(text).split())


def content(words: list[str | None], stop: frozenset[str] = STOP) -> list[str]:
    """Lowercased words that are present and not stopwords."""
    return [w.lower() for w in words if w and w.lower() not in stop]


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


def title_words(headlines: list[str]) -> list[list[str]]:
    """Each title's distinct content words, in title order."""
    return [list(dict.fromkeys(content(HEADLINE_WORD.findall(h), TITLE_STOP)))
            for h in headlines]


def title_combos(rng: random.Random, titles: list[list[str]], n: int,
                 sizes: tuple[int, ...]) -> list[str]:
    """n distinct queries, each k (drawn from sizes) words of one title (drawn uniformly),
    at random positions, kept in title order."""
    picked: dict[str, None] = {}
    while len(picked) < n:
        words, k = rng.choice(titles), rng.choice(sizes)
        if len(words) >= k:
            picked.setdefault(" ".join(words[i] for i in sorted(rng.sample(range(len(words)), k))))
    return list(picked)


def read_headlines() -> list[str]:
    """The article titles of fakenews_es, masks dropped."""
    return [unmask(r["title"]) for r in read_jsonl(FAKENEWS / "articles.jsonl") if r["title"]]


def make_queries(seed: int, per_kind: int) -> list[dict]:
    """The query mix as a list of specs."""
    rng = random.Random(seed)
    headlines = read_headlines()
    paragraphs = [unmask(r["text"]) for r in read_jsonl(FAKENEWS / "paragraphs.jsonl")]
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
    specs += [{"kind": "title", "query": q}
              for q in title_combos(rng, title_words(headlines), per_kind, (2, 3))]
    pasted_headlines = [pasted(r["query"])
                        for r in read_jsonl(FAKENEWS / "queries_headline.jsonl")]
    specs += [{"kind": "headline", "query": q}
              for q in sample_unique(rng, [h for h in pasted_headlines if h], per_kind)]
    questions = [r["query"] for r in read_jsonl(SQUAD_QUERIES)]
    specs += [{"kind": "question", "query": q} for q in sample_unique(rng, questions, per_kind)]
    return specs


def make_title_queries(seed: int, n: int) -> list[str]:
    """The batch file's queries: n distinct 1-3 word combinations from single titles."""
    return title_combos(random.Random(seed), title_words(read_headlines()), n, (1, 2, 3))


def write_lines(path: Path, lines: list[str]) -> None:
    """Write lines (LF endings) and say so on stderr."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(line + "\n" for line in lines)
    print(f"wrote {len(lines)} lines to {path}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-kind", type=int, default=25)
    ap.add_argument("--out", type=Path, default=QUERIES_FILE)
    ap.add_argument("--batch-queries", type=int, default=1000)
    ap.add_argument("--batch-out", type=Path, default=TITLE_QUERIES_FILE)
    args = ap.parse_args(argv)
    for needed in (FAKENEWS, SQUAD_QUERIES):
        if not needed.exists():
            print(f"make_queries: error: not found: {needed}", file=sys.stderr)
            return 2
    specs = make_queries(args.seed, args.per_kind)
    write_lines(args.out, [json.dumps(s, ensure_ascii=False) for s in specs])
    write_lines(args.batch_out, make_title_queries(args.seed, args.batch_queries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
