"""The command line as a user meets it: output, JSON, highlighting, exit codes, errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from searchnews import read_file
from searchnews.analysis import terms
from searchnews.articles import find_files

from .conftest import DATA, SEEDS


def test_first_query_builds_the_index_from_seeds(project_copy, run):
    result = run("query", "Kursk")
    assert result.exit_code == 0
    assert "building index/ from seeds/" in result.stderr
    assert (project_copy / "index" / "CURRENT").exists()
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == 1                      # one article, grouped ...
    (block,) = blocks
    assert "2025-08-13" in block and "000_aa4e37ec6fc49a3b" in block
    assert "2 paragraphs match" in block         # ... showing both paragraphs that name Kursk
    assert "¶7/11" in block and "\n    ¶6: " in block
    assert block.count("[[Kursk]]") == 2         # marked visibly when not a terminal
    paragraphs = run("query", "Kursk", "--paragraphs").stdout.strip().split("\n\n")
    assert len(paragraphs) == 2 and all("[[Kursk]]" in p for p in paragraphs)
    again = run("query", "Kursk")
    assert "building" not in again.stderr and again.stdout == result.stdout


def _json_hits(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_json_output_schema_and_highlight_offsets(seed_index, run):
    result = run("query", "soldado norcoreano", "--index", seed_index.path, "--json",
                 "--paragraphs")
    assert result.exit_code == 0
    hits = _json_hits(result)
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    for h in hits:
        assert list(h) == ["rank", "score", "article_id", "title", "date", "source", "url",
                           "paragraph", "text", "highlights", "matches", "duplicates",
                           "title_highlights"]
        assert h["date"] == "2025-08-13" and h["source"] is None
        assert h["highlights"]
        for start, end in h["highlights"]:
            assert terms(h["text"][start:end])[0] in set(terms("soldado norcoreano"))
    words = {hits[0]["text"][s:e] for s, e in hits[0]["highlights"]}
    assert words == {"soldados", "norcoreanos"}            # surface words, plural as written
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_accentless_query_ranks_the_exact_phrase_first(seed_index, run):
    hits = _json_hits(run("query", "cooperacion estrategica", "--index", seed_index.path, "--json",
                          "--paragraphs"))
    assert "cooperación estratégica" in hits[0]["text"]
    marked = {hits[0]["text"][s:e] for s, e in hits[0]["highlights"]}
    assert marked == {"cooperación", "estratégica"}


def test_all_words_rank_above_some_words_and_partial_matches_still_come(seed_index, run):
    hits = _json_hits(run("query", "Kursk Alaska", "--index", seed_index.path, "--json",
                          "--paragraphs"))
    has = [("Kursk" in h["text"], "Alaska" in h["text"]) for h in hits]
    assert has and not any(all(x) for x in has)     # no paragraph has both words ...
    assert any(a for a, _ in has) and any(b for _, b in has)   # ... but both kinds are found
    hits = _json_hits(run("query", "Putin Kursk", "--index", seed_index.path, "--json",
                          "--paragraphs"))
    both = [("Putin" in h["text"] and "Kursk" in h["text"]) for h in hits]
    assert both[0] and both == sorted(both, reverse=True)


def test_limit_and_no_hit_exit_code(seed_index, run):
    assert len(_json_hits(run("query", "Putin", "-n", "2", "--index", seed_index.path,
                              "--json", "--paragraphs"))) == 2
    result = run("query", "zanahoria", "--index", seed_index.path)
    assert result.exit_code == 1 and result.stdout == ""
    assert "no paragraph matches" in result.stderr


def test_colour_on_request_and_plain_marks_otherwise(seed_index, run, monkeypatch):
    colored = run("query", "Kursk", "--index", seed_index.path, "--color", "always")
    assert "\x1b[1;31mKursk\x1b[0m" in colored.stdout and "[[" not in colored.stdout
    monkeypatch.setenv("NO_COLOR", "1")
    plain = run("query", "Kursk", "--index", seed_index.path)
    assert "\x1b[" not in plain.stdout and "[[Kursk]]" in plain.stdout


def test_index_env_variable(seed_index, run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEARCHNEWS_INDEX", str(seed_index.path))
    assert run("query", "Pyongyang").exit_code == 0


@pytest.mark.parametrize("query,message", [
    ("", "empty query"),
    ("   ", "empty query"),
    ('"cooperación estratégica', "unbalanced quote"),
    ("(Putin Kim", "unbalanced '('"),
    ("Putin) Kim", "unbalanced ')'"),
    ("autor:Putin", "unknown field 'autor:'"),
    ("NOT Kursk", "NOT only excludes"),
    ("titulo:", "'titulo:' needs a word"),
    ("fuente: Reuters", "'fuente:' needs a word"),
    ("gobierno~9", "1 or 2 edits"),
    ("**", "a wildcard needs letters"),
])
def test_bad_queries_exit_2_with_one_line(seed_index, run, query, message):
    result = run("query", query, "--index", seed_index.path)
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("query,note", [
    ("de la que", "only stopwords"),
    ("contra cuando", "only stopwords"),
    ("Azte?a", "no indexed word matches Azte?a"),
    ("xyzq*", "no indexed word matches xyzq*"),
])
def test_a_query_with_nothing_to_look_up_finds_nothing_and_says_why(seed_index, run, query,
                                                                    note):
    result = run("query", query, "--index", seed_index.path)
    assert result.exit_code == 1 and result.stdout == ""
    assert f"no paragraph matches: {query} ({note}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run("query", query, "--index", seed_index.path, "--json")
    assert result.exit_code == 1 and note in json.loads(result.stdout)["note"]


def test_a_wildcard_that_stands_for_too_many_words_is_refused(sample_index, run):
    result = run("query", "*a*", "--index", sample_index.path)
    assert result.exit_code == 2 and result.stdout == ""
    assert "'*a*' matches" in result.stderr and "give it more letters" in result.stderr
    assert run("query", "gob*", "--index", sample_index.path).exit_code == 0
    many = " ".join(f"{a}{b}*" for a in "cdmpt" for b in "aeiou")   # each fine, all too many
    result = run("query", many, "--index", sample_index.path)
    assert result.exit_code == 2 and "stand for more than 1,024" in result.stderr


def test_a_query_without_a_query_is_a_usage_error(seed_index, run):
    result = run("query", "--index", seed_index.path)
    assert result.exit_code == 2 and "give a QUERY or --batch FILE" in result.stderr
    assert "internal error" not in result.stderr


def test_field_search_in_title(seed_index, run):
    assert run("query", "titulo:Kursk", "--index", seed_index.path).exit_code == 1
    assert run("query", "title:Putin", "--index", seed_index.path).exit_code == 0


def test_query_without_an_index(tmp_path, run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("query", "Kursk", "--index", tmp_path / "none")
    assert result.exit_code == 2 and "no index at" in result.stderr
    assert "searchnews index" in result.stderr


def test_index_reports_bad_files_and_indexes_the_rest(tmp_path, run):
    (tmp_path / "in").mkdir()
    for f in SEEDS.iterdir():
        (tmp_path / "in" / f.name).write_bytes(f.read_bytes())
    (tmp_path / "in" / "latin1.txt").write_bytes("Acuerdo de cooperación".encode("latin-1"))
    (tmp_path / "in" / "roto.json").write_text('{"text": "Kursk"', encoding="utf-8")
    (tmp_path / "in" / "vacio.md").write_text("", encoding="utf-8")
    (tmp_path / "in" / "foto.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    ix = tmp_path / "ix"
    result = run("index", tmp_path / "in", tmp_path / "falta", "--index", ix, "--json")
    assert result.exit_code == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 5
    for name, reason in [("latin1.txt", "not UTF-8"), ("roto.json", "malformed JSON"),
                         ("vacio.md", "empty file"), ("foto.txt", "binary file"),
                         ("falta", "no such file or folder")]:
        assert any(name in e and reason in e for e in errors), (name, errors)
    report = json.loads(result.stdout)
    assert report["added"] == 1 and report["paragraphs"] == 11 and len(report["failed"]) == 5
    assert run("query", "Kursk", "--index", ix).exit_code == 0


def test_index_summary_and_stats(tmp_path, run):
    files = [f for root in (SEEDS, DATA) for f in find_files(root)]
    articles = [a for f in files for a in read_file(f).articles]
    n_paragraphs = sum(len(a.paragraphs) for a in articles)
    ix = tmp_path / "ix"
    first = run("index", SEEDS, DATA, "--index", ix)
    assert first.exit_code == 0
    assert first.stderr.startswith(f"{len(articles)} added, 0 updated, 0 removed, 0 unchanged, "
                                   f"0 failed ({n_paragraphs:,} paragraphs indexed)")
    stats = json.loads(run("stats", "--index", ix, "--json").stdout)
    assert (stats["articles"], stats["paragraphs"], stats["files"]) == \
        (len(articles), n_paragraphs, len(files))
    assert stats["date_last"] == max(a.date for a in articles if a.date)
    assert stats["terms"] > 3000
    assert f"articles:    {len(articles)}" in run("stats", "--index", ix).stdout


def test_version_and_help(run):
    assert run("--version").exit_code == 0
    out = run("--help").stdout
    assert "index" in out and "query" in out


def test_words_mode_takes_quotes_as_text(seed_index, run):
    query = 'el "profundo aprecio'
    assert run("query", query, "--index", seed_index.path).exit_code == 2
    result = run("query", query, "--words", "--index", seed_index.path, "--json")
    assert result.exit_code == 0 and "profundo aprecio" in _json_hits(result)[0]["text"]


def test_a_reader_that_stops_early_ends_the_command_quietly(sample_index, tmp_path):
    """``searchnews query … | head -1``: the pipe closes after one line; searchnews stops
    with exit 0 and says nothing, like ripgrep (it used to print an internal error)."""
    queries = tmp_path / "q.txt"
    queries.write_text("gobierno\nMéxico\n" * 40, encoding="utf-8")    # ~700 lines of hits
    proc = subprocess.Popen([sys.executable, "-m", "searchnews", "query", "--batch", queries,
                             "--index", sample_index.path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert json.loads(proc.stdout.readline())["query_id"] == 1
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_a_batch_line_that_is_not_utf8_is_named_and_the_others_run(seed_index, run, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_bytes("Kursk\n".encode() + b"\xff\xfe malo\n" + "Pyongyang\n".encode())
    result = run("query", "--batch", queries, "--index", seed_index.path)
    assert result.exit_code == 2
    assert result.stderr.strip() == ("searchnews: error: batch line 2: not UTF-8 text "
                                     "(invalid start byte at byte 1)")
    assert {json.loads(x)["query_id"] for x in result.stdout.splitlines()} == {1, 3}


def test_a_first_run_that_indexes_nothing_leaves_no_index(project_copy, run):
    """A typo or an empty folder: the run fails or adds nothing, and leaves no empty index
    behind, so the next query still builds the default index from seeds/."""
    (project_copy / "empty").mkdir()
    assert run("index", "typo.jsonl").exit_code == 2
    assert run("index", "empty").exit_code == 0
    assert not (project_copy / "index" / "CURRENT").exists()
    result = run("query", "Kursk")
    assert result.exit_code == 0 and "building index/ from seeds/" in result.stderr


def test_an_index_whose_articles_are_all_removed_finds_nothing(tmp_path, run):
    feed = tmp_path / "feed"
    feed.mkdir()
    shutil.copy(SEEDS / "000_aa4e37ec6fc49a3b.txt", feed)
    assert run("index", feed, "--index", tmp_path / "ix", "-q").exit_code == 0
    (feed / "000_aa4e37ec6fc49a3b.txt").unlink()
    assert run("index", feed, "--index", tmp_path / "ix", "-q").exit_code == 0
    result = run("query", "Kursk", "--index", tmp_path / "ix")
    assert result.exit_code == 1 and "the index holds no paragraphs" in result.stderr
    stats = json.loads(run("stats", "--index", tmp_path / "ix", "--json").stdout)
    assert stats["articles"] == 0 and stats["paragraphs"] == 0 and stats["sources"] == {}


def test_a_named_pipe_is_never_read(tmp_path, run):
    """A FIFO among the articles would block the indexer for ever: in a folder it is
    skipped; named on the command line it is a one-line error."""
    folder = tmp_path / "junk"
    folder.mkdir()
    shutil.copy(SEEDS / "000_aa4e37ec6fc49a3b.txt", folder)
    os.mkfifo(folder / "pipe.txt")
    result = run("index", folder, "--index", tmp_path / "ix")
    assert result.exit_code == 0 and "1 added" in result.stderr
    result = run("index", folder / "pipe.txt", "--index", tmp_path / "ix2")
    assert result.exit_code == 2
    assert "pipe.txt: not a regular file or folder" in result.stderr


def test_stats_count_what_is_indexed_now_and_name_outlets_as_written(run, tmp_path):
    lines = (DATA / "fakenews_es_sample.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in lines]
    feed = tmp_path / "feed" / "f.jsonl"
    feed.parent.mkdir()
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run("index", feed.parent, "--index", tmp_path / "ix", "-q").exit_code == 0
    kept = [r for r in records if r["article_id"] != records[0]["article_id"]]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept),
                    encoding="utf-8")
    assert run("index", feed.parent, "--index", tmp_path / "ix", "-q").exit_code == 0
    stats = json.loads(run("stats", "--index", tmp_path / "ix", "--json").stdout)
    assert stats["articles"] == len({r["article_id"] for r in kept})
    assert stats["paragraphs"] == len(kept)
    counts: dict[str, int] = {}          # an outlet is one however its articles write it
    spellings: dict[str, set[str]] = {}
    for r in kept:
        if r.get("source"):
            key = " ".join(terms(r["source"], stem=False))
            counts[key] = counts.get(key, 0) + 1
            spellings.setdefault(key, set()).add(r["source"])
    shown = {" ".join(terms(name, stem=False)): (name, n) for name, n in stats["sources"].items()}
    assert {k: n for k, (_, n) in shown.items()} == counts
    assert all(name in spellings[k] for k, (name, _) in shown.items())     # as written


def test_json_marks_the_title_words_too(seed_index, run):
    record = json.loads(run("query", "cooperación", "--index", seed_index.path,
                            "--json", "-n", "1").stdout.splitlines()[0])
    assert [record["title"][a:b] for a, b in record["title_highlights"]] == ["cooperación"]


def test_files_of_the_same_name_in_two_folders_are_two_articles(run, tmp_path):
    """``nota.txt`` in two fed folders (ids made from file names): the second is named with
    its folder (``otra/nota``) rather than refused as "already indexed"."""
    seed = read_file(SEEDS / "000_aa4e37ec6fc49a3b.txt", SEEDS).articles[0]
    for folder, paragraph in (("una", seed.paragraphs[5]), ("otra", seed.paragraphs[6])):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "nota.txt").write_text(paragraph + "\n", encoding="utf-8")
    ix = tmp_path / "ix"
    result = run("index", tmp_path / "una", tmp_path / "otra", "--index", ix)
    assert result.exit_code == 0 and "2 added" in result.stderr
    hits = [json.loads(x) for x in run("query", "Kursk", "--index", ix, "--json").stdout
            .splitlines()]
    assert sorted(h["article_id"] for h in hits) == ["nota", "otra/nota"]
    assert run("show", "otra/nota", "--index", ix).exit_code == 0
    again = run("index", tmp_path / "una", tmp_path / "otra", "--index", ix)
    assert again.exit_code == 0 and "2 unchanged" in again.stderr
