"""Indexing again as articles arrive: incremental, mirror semantics, safe on bad files."""

from __future__ import annotations

import json
import shutil

from searchnews import Index
from searchnews.errors import SearchnewsError

from .conftest import DATA, SEEDS, rewrite_feed

SAMPLE = DATA / "fakenews_es_sample.jsonl"


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _articles(lines):
    return list(dict.fromkeys(json.loads(x)["article_id"] for x in lines))


def test_rerun_is_incremental_and_follows_the_folder(tmp_path):
    src = tmp_path / "news"
    src.mkdir()
    shutil.copy(SEEDS / "000_aa4e37ec6fc49a3b.txt", src)
    lines = _lines(SAMPLE)
    ids = _articles(lines)
    feed = src / "feed.jsonl"
    feed.write_text("".join(lines), encoding="utf-8")
    ix = Index(tmp_path / "ix")

    first = ix.add_paths([src])
    assert (first.added, first.unchanged, first.failed) == (len(ids) + 1, 0, [])

    again = ix.add_paths([src])
    assert (again.added, again.updated, again.removed, again.unchanged, again.paragraphs) == \
        (0, 0, 0, len(ids) + 1, 0)

    # change one article's text, drop another, keep the rest
    changed, dropped = ids[0], ids[1]
    feed.write_text(rewrite_feed(lines, changed, dropped,
                                 "Nuevo párrafo sobre la región fronteriza de Kursk."),
                    encoding="utf-8")
    third = ix.add_paths([src])
    assert (third.added, third.updated, third.removed, third.unchanged) == (0, 1, 1, len(ids) - 1)
    hits = ix.search("Kursk", limit=20)
    assert changed in {h.article_id for h in hits}
    assert ix.article(dropped) is None
    assert ix.article(changed).paragraphs[0] == "Nuevo párrafo sobre la región fronteriza de Kursk."

    # a file gone from the folder takes its article with it; other paths are left alone
    other = tmp_path / "other.jsonl"
    other.write_text("".join(_lines(DATA / "ancora_ud_sample.jsonl")), encoding="utf-8")
    ix.add_paths([other])
    (src / "000_aa4e37ec6fc49a3b.txt").unlink()
    fourth = ix.add_paths([src])
    assert fourth.removed == 1
    assert ix.search("Kursk Pyongyang", limit=50) and not any(
        h.article_id == "000_aa4e37ec6fc49a3b" for h in ix.search("Pyongyang", limit=50))
    assert ix.stats()["files"] == 2


def test_a_bad_read_keeps_what_was_indexed_and_is_retried(tmp_path):
    src = tmp_path / "news"
    src.mkdir()
    seed = src / "seed.txt"
    shutil.copy(SEEDS / "000_aa4e37ec6fc49a3b.txt", seed)
    ix = Index(tmp_path / "ix")
    ix.add_paths([src])
    good = seed.read_bytes()
    seed.write_bytes(good.replace("Kursk".encode(), "Kursk".encode("utf-16")))
    broken = ix.add_paths([src])
    assert len(broken.failed) == 1 and broken.removed == 0
    assert len(ix.search("Kursk", group=False)) == 2   # still answers from what it had
    seed.write_bytes(good)
    fixed = ix.add_paths([src])
    assert fixed.failed == [] and fixed.unchanged == 1


def test_rebuild_swaps_in_a_fresh_generation(tmp_path):
    ix = Index(tmp_path / "ix")
    ix.add_paths([SEEDS])
    before = ix.current_dir()
    report = ix.add_paths([SEEDS, DATA], rebuild=True)
    assert report.added == 1 + sum(len(_articles(_lines(f))) for f in DATA.glob("*.jsonl"))
    assert ix.current_dir() != before and not before.exists()
    assert ix.search("Kursk")


def test_corrupt_index_folder_says_how_to_rebuild(tmp_path):
    ix = Index(tmp_path / "ix")
    ix.add_paths([SEEDS])
    for f in ix.current_dir().glob("*.toc"):
        f.write_bytes(b"not a toc")
    try:
        ix.search("Kursk")
    except Exception as exc:  # noqa: BLE001 - the type and text are what we check
        assert isinstance(exc, SearchnewsError)
        assert "searchnews check --repair" in str(exc)
    else:
        raise AssertionError("a corrupt index must not answer")


def test_a_reader_follows_a_rebuild_that_lands_while_it_opens(tmp_path, monkeypatch):
    """The CLI reads CURRENT, then opens that generation; a rebuild finishing in between
    deletes it. The reader must answer from the new generation, not fail."""
    import searchnews.engines.whoosh.index as index_module
    writer, reader = Index(tmp_path / "ix"), Index(tmp_path / "ix")
    writer.add_paths([SEEDS])
    stale = reader.current_dir()
    real_open = index_module.whoosh_index.open_dir
    rebuilt = []

    def open_after_a_rebuild(path, *args, **kwargs):
        if not rebuilt:
            rebuilt.append(writer.add_paths([SEEDS], rebuild=True))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(index_module.whoosh_index, "open_dir", open_after_a_rebuild)
    hits = reader.search("Kursk")
    assert rebuilt and not stale.exists() and reader.current_dir() != stale
    assert hits and "Kursk" in hits[0].text
