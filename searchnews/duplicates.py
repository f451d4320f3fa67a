"""Near-duplicate paragraphs: the same wire story printed by several outlets is one hit.

Two paragraphs are near-identical when the pairs of consecutive words (stopwords left out,
spellings folded) overlap by DUPLICATE_JACCARD or more (Jaccard). A word is a number — the
first 8 bytes of its folded spelling with its length mixed in — so that the forward index
(:func:`forward.marked_starts`) and a text analysed again give the same pairs, and a
page of hits is compared without reading its stored text.
"""

from __future__ import annotations

from typing import Sequence

from .analysis import WORD_RE, token

DUPLICATE_JACCARD = 0.8      # word-trigram overlap above which two paragraphs are one story


def code(spelling: str) -> int:
    """A folded spelling as a number (the forward index's :meth:`SegmentForward.codes`)."""
    raw = spelling.encode("utf-8")
    return int.from_bytes(raw[:8].ljust(8, b"\0"), "big") ^ (len(raw) % 256 << 56)


def text_codes(text: str) -> list[int]:
    """The codes of a text's words (stopwords left out), analysed as the indexer does."""
    return [code(found[0]) for w in WORD_RE.findall(text) if (found := token(w))]


PAIR = 0x9E3779B97F4A7C15          # mixes a word's code into its pair's (mod 2**64)


def signature(codes: Sequence[int]) -> frozenset[int]:
    """The pairs of consecutive words of a paragraph, each pair a number (the forward index
    makes the same numbers with numpy: :func:`forward.marked_starts`)."""
    if len(codes) < 2:
        return frozenset(codes)
    return frozenset((a * PAIR + b) % 2 ** 64 for a, b in zip(codes, codes[1:]))


def fold(signatures: Sequence[frozenset]) -> list[list[int]]:
    """Groups of indices, in rank order: each a kept paragraph and the lower-ranked ones
    near-identical to it. Sets whose sizes differ by more than the threshold's ratio cannot
    be near-identical, so most pairs are told apart without comparing them; a paragraph
    with the very pairs of one seen joins that one's group at once."""
    groups: list[list[int]] = []
    same: dict[frozenset, list[int]] = {}        # copies word for word join at once
    for i, sig in enumerate(signatures):
        copy = same.get(sig)
        if copy is not None:
            copy.append(i)
            continue
        for group in groups:
            best = signatures[group[0]]
            small, large = sorted((len(sig), len(best)))
            if small < DUPLICATE_JACCARD * large:
                continue
            common = len(sig & best)
            union = len(sig) + len(best) - common
            if union and common / union >= DUPLICATE_JACCARD:
                group.append(i)
                same[sig] = group
                break
        else:
            groups.append([i])
            same[sig] = groups[-1]
    return groups
