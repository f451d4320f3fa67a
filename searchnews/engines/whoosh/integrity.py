"""Checksums of an index generation's files, so that damage is found, not served: each
commit records every file's size and CRC-32 (a file once written never changes: Whoosh
writes new segments and a new table of contents, never over old ones). Opening the index
compares sizes (a stat per file) and, for an index of up to VERIFY_ON_OPEN bytes (reading
that much costs a cold query about 30 ms), contents too; indexing and ``searchnews check``
always compare contents."""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

from ... import atomic

FILE = "checksums.json"
VERIFY_ON_OPEN = 64 * 2 ** 20
# rewritten whole at each commit and checked as they are read (JSON), or a lock: not listed
UNLISTED = {FILE, "manifest.json", "vocabulary.json"}


def crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            crc = zlib.crc32(block, crc)
    return crc


def _listed(gen: Path) -> dict[str, list[int]]:
    try:
        data = json.loads((gen / FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def record(gen: Path) -> None:
    """List the generation's files with their size and CRC-32; a file listed before with
    the same size keeps its recorded CRC (only new files are read)."""
    before = _listed(gen)
    now: dict[str, list[int]] = {}
    for path in sorted(gen.iterdir()):
        if not path.is_file() or path.name in UNLISTED or path.name.endswith("LOCK") \
                or path.name.startswith("."):
            continue
        size = path.stat().st_size
        known = before.get(path.name)
        now[path.name] = known if known and known[0] == size else [size, crc32(path)]
    atomic.write_text(gen / FILE, json.dumps(now, sort_keys=True))


def damage(gen: Path, read_up_to: float = math.inf) -> list[str]:
    """What is wrong with the listed files, one line each: a size that changed, a file gone,
    or, when they are ``read_up_to`` bytes in all or fewer, bytes that changed. When the newest table of contents is not
    listed, a commit ended before its checksums were written (a crash): a listed file that
    is gone was then dropped by that commit, not lost."""
    found = []
    listed = _listed(gen)
    contents = sum(size for size, _ in listed.values()) <= read_up_to
    tocs = sorted(gen.glob("_*_*.toc"), key=lambda p: int(p.stem.rsplit("_", 1)[1])
                  if p.stem.rsplit("_", 1)[1].isdigit() else -1)
    current = bool(tocs) and tocs[-1].name in listed
    for name, (size, crc) in sorted(listed.items()):
        path = gen / name
        try:
            actual = path.stat().st_size
        except FileNotFoundError:
            if current:
                found.append(f"{name}: missing")
            continue
        if actual != size:
            found.append(f"{name}: {actual:,} bytes, {size:,} when written")
        elif contents and crc32(path) != crc:
            found.append(f"{name}: its bytes changed since it was written (CRC-32)")
    return found


def verified(gen: Path) -> int:
    """How many files the generation lists."""
    return len(_listed(gen))

