"""The fixes to Whoosh internals read index files exactly as Whoosh's own code does."""

from __future__ import annotations

import io

from hypothesis import given, strategies as st
from whoosh.filedb import compound

import searchnews.engines.whoosh.index  # noqa: F401  (installs the fixes)
from searchnews.engines.whoosh.patches import ViewFile, _ViewReader

OPS = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(-1, 40)),
    st.tuples(st.just("readline"), st.integers(-1, 40)),
    st.tuples(st.just("seek"), st.integers(0, 60)),
    st.tuples(st.just("tell"), st.just(0)),
), max_size=30)


@given(st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"\n")), OPS)
def test_view_reader_reads_like_bytesio(data, ops):
    # a memoryview of a mmap is what Whoosh hands over; BytesIO of its copy is the reference
    ours, ref = _ViewReader(memoryview(data)), io.BytesIO(data)
    for op, arg in ops:
        args = () if op == "tell" else (arg,)
        assert getattr(ours, op)(*args) == getattr(ref, op)(*args), (op, arg)


def test_compound_files_are_opened_without_a_copy():
    assert compound.BufferFile is ViewFile
    big = bytearray(b"x" * 1000)
    f = ViewFile(memoryview(big))
    big[0:1] = b"y"   # a copy would not see the change
    assert f.read(1) == b"y" and f.get(0, 2) == b"yx"


def test_the_fixes_touch_only_the_whoosh_they_were_written_for(monkeypatch):
    """On another Whoosh release its internals may differ: the fix is left out, with a
    warning, rather than patched into code it was not written for."""
    import warnings

    import whoosh

    from searchnews.engines.whoosh import patches as whoosh_patches
    monkeypatch.setattr(compound, "BufferFile", compound.BufferFile)   # restored after
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 5))
    compound.BufferFile = object
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert whoosh_patches.apply() is False
    assert compound.BufferFile is object and "not applied" in str(caught[0].message)
    monkeypatch.setattr(whoosh, "__version__", whoosh_patches.WRITTEN_FOR)
    assert whoosh_patches.apply() is True and compound.BufferFile is ViewFile
