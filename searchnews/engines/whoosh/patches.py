"""Fixes to Whoosh 2.7 internals that cost searchnews time at archive scale.

Whoosh 2.7.4 is the last release and unmaintained, so these are applied on import of
:mod:`.index` rather than waited for upstream. Each one keeps Whoosh's file formats
and public behaviour; the tests run every search through them.

* **No copy of memory-mapped files.** Whoosh opens each file inside a segment's compound file
  as a ``BufferFile`` over a ``memoryview`` of the mmap, and ``BufferFile`` wraps that view in
  ``io.BytesIO``, which copies it. Opening the stored-fields column of a 1M-paragraph index
  so copied ~500 MB in every process: a cold ``searchnews query`` took 0.7-1.5 s and 1.8 GB of
  RSS. :class:`ViewFile` reads the view in place instead.
"""

from __future__ import annotations

import warnings

import whoosh
from whoosh.filedb import compound, structfile

WRITTEN_FOR = (2, 7, 4)     # the Whoosh release whose internals these fixes replace


class _ViewReader:
    """The file-like part of a read-only view: what ``StructFile`` calls on ``self.file``."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._pos + size
        data = bytes(self._view[self._pos:end])
        self._pos += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        limit = len(self._view) if size is None or size < 0 else min(len(self._view),
                                                                      self._pos + size)
        end = self._pos
        while end < limit:
            chunk = bytes(self._view[end:min(end + 4096, limit)])
            newline = chunk.find(b"\n")
            if newline >= 0:
                end += newline + 1
                break
            end += len(chunk)
        return self.read(end - self._pos)

    def seek(self, pos: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = base + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view = memoryview(b"")


class ViewFile(structfile.BufferFile):
    """``BufferFile`` without the ``BytesIO`` copy of its buffer."""

    def __init__(self, buf, name=None, onclose=None) -> None:
        self._buf = buf
        self._name = name
        self.file = _ViewReader(memoryview(buf))
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False


def apply() -> bool:
    """Install the fixes (idempotent) on the Whoosh release they were written for; on any
    other, leave Whoosh as it is (slower, not wrong) and say so once. Whether installed."""
    if tuple(whoosh.__version__[:3]) != WRITTEN_FOR:
        warnings.warn(f"searchnews: Whoosh {whoosh.versionstring()} is not "
                      f"{'.'.join(map(str, WRITTEN_FOR))}: its memory-map fix is not applied",
                      RuntimeWarning, stacklevel=2)
        return False
    compound.BufferFile = ViewFile
    return True
