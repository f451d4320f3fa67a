"""Reading article files: every documented format, scraper field names, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchnews import ArticleError, read_file
from searchnews.articles import find_files

from .conftest import DATA, SEEDS

SEED_FILE = SEEDS / "000_aa4e37ec6fc49a3b.txt"
SEED_LINES = [ln for ln in SEED_FILE.read_text(encoding="utf-8").split("---\n", 2)[2].splitlines()
              if ln.strip()]


def test_seed_article_has_its_metadata_and_paragraphs():
    (a,) = read_file(SEED_FILE, SEEDS).articles
    assert a.article_id == "000_aa4e37ec6fc49a3b"
    assert a.date == "2025-08-13"
    assert "cooperación estratégica" in a.title
    assert list(a.paragraphs) == SEED_LINES and len(a.paragraphs) == 11


def test_txt_without_header_takes_title_from_first_sentence(tmp_path):
    f = tmp_path / "nota.txt"
    f.write_text(SEED_LINES[4] + "\n" + SEED_LINES[5] + "\n", encoding="utf-8")
    (a,) = read_file(f, tmp_path).articles
    assert a.article_id == "nota" and a.date is None
    assert a.title.startswith("Esta llamada se produce en medio de un aumento")
    assert len(a.title) <= 121 and a.paragraphs == (SEED_LINES[4], SEED_LINES[5])


def test_blank_lines_separate_hard_wrapped_paragraphs(tmp_path):
    words = SEED_LINES[0].split()
    wrapped = "\n".join(" ".join(words[i:i + 8]) for i in range(0, len(words), 8))
    f = tmp_path / "wrapped.txt"
    f.write_text(wrapped + "\n\n" + SEED_LINES[1] + "\n", encoding="utf-8")
    assert read_file(f).articles[0].paragraphs == (SEED_LINES[0], SEED_LINES[1])


def test_markdown_front_matter_and_heading(tmp_path):
    f = tmp_path / "cumbre.md"
    f.write_text("---\ndate: 2025-08-13\nsource: Agencia\nurl: https://example.org/n/1\n---\n"
                 "# Putin y Trump, en Alaska\n\n" + SEED_LINES[9] + "\n\n" + SEED_LINES[10] + "\n",
                 encoding="utf-8")
    (a,) = read_file(f, tmp_path).articles
    assert (a.title, a.date, a.source, a.url) == ("Putin y Trump, en Alaska", "2025-08-13",
                                                  "Agencia", "https://example.org/n/1")
    assert a.paragraphs == (SEED_LINES[9], SEED_LINES[10])


def test_json_single_and_list_with_scraper_field_names(tmp_path):
    one = {"headline": "Kim y Putin", "maintext": "\n".join(SEED_LINES[:3]),
           "date_publish": "2025-08-13 09:15:00", "source_domain": "example.org",
           "url": "https://example.org/a"}
    (tmp_path / "one.json").write_text(json.dumps(one), encoding="utf-8")
    (a,) = read_file(tmp_path / "one.json").articles
    assert (a.article_id, a.title, a.date, a.source) == ("https://example.org/a", "Kim y Putin",
                                                         "2025-08-13", "example.org")
    assert len(a.paragraphs) == 3
    many = [{"id": "n1", "title": "uno", "body": SEED_LINES[0]},
            {"id": "n2", "title": "dos", "text": [SEED_LINES[1], SEED_LINES[2]]}]
    (tmp_path / "many.json").write_text(json.dumps(many), encoding="utf-8")
    got = read_file(tmp_path / "many.json").articles
    assert [(x.article_id, len(x.paragraphs)) for x in got] == [("n1", 1), ("n2", 2)]


def test_jsonl_paragraph_records_are_grouped_into_articles():
    result = read_file(DATA / "fakenews_es_sample.jsonl")
    lines = [json.loads(x) for x in (DATA / "fakenews_es_sample.jsonl").open(encoding="utf-8")]
    assert len(result.articles) == len({r["article_id"] for r in lines}) == 40
    first = result.articles[0]
    mine = sorted((r for r in lines if r["article_id"] == first.article_id),
                  key=lambda r: r["paragraph"])
    assert first.paragraphs == tuple(r["text"] for r in mine)
    assert first.title == mine[0]["title"] and first.source == mine[0]["source"]


def test_jsonl_article_per_line(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text("\n".join(json.dumps({"id": f"a{i}", "text": SEED_LINES[i]}) for i in range(3)),
                 encoding="utf-8")
    assert [a.article_id for a in read_file(f).articles] == ["a0", "a1", "a2"]


def test_content_hash_changes_with_text_only():
    (a,) = read_file(SEED_FILE, SEEDS).articles
    (b,) = read_file(SEED_FILE, SEEDS).articles
    assert a.content_hash == b.content_hash
    changed = type(a)(a.article_id, a.title, a.paragraphs[:-1], a.date)
    assert changed.content_hash != a.content_hash


@pytest.mark.parametrize("name,data,reason", [
    ("latin1.txt", "Cooperación estratégica".encode("latin-1"), "not UTF-8"),
    ("broken.json", b'{"title": "Kursk", "text": ', "malformed JSON"),
    ("broken.jsonl", b'{"id": "a", "text": "uno"}\n{"id": "b", "text": \n', "malformed JSON"),
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\n", "empty file"),
    ("binary.txt", bytes(range(256)) * 4, "binary file"),
    ("open.md", b"---\ntitle: x\nsin cierre\n", "never closed"),
    ("bad-date.json", b'{"text": "Kursk", "date": "ayer"}', "invalid date 'ayer'"),
    ("no-text.json", b'{"title": "solo titulo"}', "no article with text"),
    ("nota.pdf", b"%PDF-1.4", "unsupported format"),
])
def test_bad_files_give_one_clear_reason(tmp_path, name, data, reason):
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(ArticleError) as err:
        read_file(f)
    assert reason in str(err.value) and str(f) in str(err.value)


def test_error_names_the_line_in_jsonl(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text('{"id": "a", "text": "uno"}\n\n{"id": "b", "text": "dos"\n', encoding="utf-8")
    with pytest.raises(ArticleError) as err:
        read_file(f)
    assert str(err.value).startswith(f"{f}:3: malformed JSON")


def test_missing_path_and_folder_walk(tmp_path):
    with pytest.raises(ArticleError, match="no such file or folder"):
        list(find_files(tmp_path / "nope"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("x", encoding="utf-8")
    assert [p.relative_to(tmp_path) for p in find_files(tmp_path)] == [Path("sub/a.txt")]


def test_a_paragraph_past_the_size_limit_is_split_where_sentences_end(tmp_path):
    """A file that is one very long line (a scrape without line breaks): its text is split
    into paragraphs of at most MAX_PARAGRAPH characters, at sentence ends, nothing lost."""
    from searchnews.articles import MAX_PARAGRAPH
    seed = read_file(SEED_FILE, SEEDS).articles[0]
    line = " ".join(seed.paragraphs * 40)                    # ~160k characters, one line
    (tmp_path / "largo.txt").write_text(line + "\n", encoding="utf-8")
    paragraphs = read_file(tmp_path / "largo.txt").articles[0].paragraphs
    assert len(paragraphs) >= len(line) // MAX_PARAGRAPH
    assert all(len(p) <= MAX_PARAGRAPH for p in paragraphs)
    assert " ".join(paragraphs) == line
    sentence_ends = {p[-1] for p in paragraphs[:-1]}
    assert sentence_ends <= set('.!?…"»”')                  # cut where a sentence ends


def test_a_word_longer_than_the_limit_is_cut_anyway(tmp_path):
    from searchnews.articles import MAX_PARAGRAPH
    word = "Kursk" * (MAX_PARAGRAPH // 2)                     # 25k letters, no space
    (tmp_path / "raro.txt").write_text(f"Antes. {word} después.\n", encoding="utf-8")
    paragraphs = read_file(tmp_path / "raro.txt").articles[0].paragraphs
    assert all(len(p) <= MAX_PARAGRAPH for p in paragraphs)
    assert "".join(paragraphs).replace(" ", "") == f"Antes.{word}después."
