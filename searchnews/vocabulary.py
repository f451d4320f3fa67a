"""The indexed words, folded and unstemmed, with counts and accented spelling.

Prefix (``cooperaci*``), wildcard and fuzzy (``Pyongyng~``) words cannot be matched against a
stemmed field: the fragment or the typo has no stem of its own. Rather than index every
paragraph a second time unstemmed (which made indexing a third slower), the indexer records
each word it analyses; this module keeps those words in a sidecar file of the index and
expands such query words into the stems of the indexed words they match. The same list gives
"did you mean" its candidates, and the accents to write them with (``cooperación``).
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import re
from collections import Counter
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from . import atomic
from .analysis import fold

FILE = "vocabulary.json"


class Vocabulary:
    """Folded word → (occurrences, how it is usually written)."""

    def __init__(self, counts: dict[str, int] | None = None,
                 spelling: dict[str, str] | None = None):
        self.counts: dict[str, int] = counts or {}
        self.spelling: dict[str, str] = spelling or {}
        self._sorted: list[str] | None = None

    # -- building ----------------------------------------------------------------------------

    def add(self, surface_counts: Counter) -> None:
        """Merge words as written (any case) with their occurrence counts."""
        best: dict[str, tuple[int, str]] = {}
        for word, n in surface_counts.items():
            lower = word.lower()
            folded = fold(lower)
            self.counts[folded] = self.counts.get(folded, 0) + n
            if lower != folded:          # written with accents (or ñ): the spelling to show
                if n > best.get(folded, (0, ""))[0]:
                    best[folded] = (n, lower)
        for folded, (_, lower) in best.items():
            self.spelling.setdefault(folded, lower)
        self._sorted = None

    def save(self, folder: Path) -> None:
        atomic.write_text(folder / FILE, json.dumps({"counts": self.counts,
                                                     "spelling": self.spelling},
                                                    ensure_ascii=False, separators=(",", ":")))

    @classmethod
    def load(cls, folder: Path) -> "Vocabulary":
        try:
            data = json.loads((folder / FILE).read_text(encoding="utf-8"))
            return cls(data["counts"], data["spelling"])
        except (FileNotFoundError, ValueError, KeyError):
            return cls()

    # -- looking up --------------------------------------------------------------------------

    def __contains__(self, folded: str) -> bool:
        return folded in self.counts

    def spell(self, folded: str) -> str:
        """The word as it is usually written: ``cooperacion`` → ``cooperación``."""
        return self.spelling.get(folded, folded)

    def matching(self, pattern: str) -> list[str]:
        """Indexed words matching a folded pattern: ``coop*`` (prefix) or with ``*``/``?``."""
        if self._sorted is None:
            self._sorted = sorted(self.counts)
        prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
        start = bisect.bisect_left(self._sorted, prefix)
        out = []
        for word in self._sorted[start:]:
            if not word.startswith(prefix):
                break
            if pattern == prefix + "*" or fnmatch.fnmatchcase(word, pattern):
                out.append(word)
        return out

    def near(self, folded: str, maxdist: int, prefix: int = 1) -> list[str]:
        """Indexed words within ``maxdist`` edits (insertions, deletions, substitutions and
        swaps of neighbours) that share the first ``prefix`` letters, most frequent first.
        Words sharing a beginning are a slice of the sorted list; rapidfuzz measures them all
        in compiled code (a Python loop over the vocabulary took 30-100 ms a word)."""
        if self._sorted is None:
            self._sorted = sorted(self.counts)
        lead = folded[:prefix]
        start = bisect.bisect_left(self._sorted, lead)
        end = bisect.bisect_left(self._sorted, lead + "\U0010ffff", start)
        candidates = [w for w in self._sorted[start:end]
                      if w[:prefix] == lead and abs(len(w) - len(folded)) <= maxdist
                      and w != folded]
        found = process.extract(folded, candidates, scorer=OSA.distance, score_cutoff=maxdist,
                                limit=None)
        return sorted((w for w, _, _ in found), key=lambda w: (-self.counts[w], w))
