"""Searching like a news researcher: query language, filters, grouping, duplicates,
suggestions, show, similar and batch — through the CLI, on the seed and real news."""

from __future__ import annotations

import json

import pytest

from searchnews import read_file

from .conftest import DATA, SEEDS

SEED_ID = "000_aa4e37ec6fc49a3b"
SEED = read_file(SEEDS / f"{SEED_ID}.txt", SEEDS).articles[0]
SAMPLE = [a for f in sorted(DATA.glob("*.jsonl")) for a in read_file(f).articles] + [SEED]


def hits_of(run, *args) -> list[dict]:
    result = run("query", *args, "--json")
    assert result.exit_code in (0, 1), result.stderr
    return [json.loads(x) for x in result.stdout.splitlines() if '"rank"' in x]


def words_of(articles) -> str:
    """A query any of these articles matches: a long word from each one's first paragraph."""
    return " ".join(next(w for w in a.paragraphs[0].split() if len(w) >= 7 and w.isalpha())
                    for a in articles if any(len(w) >= 7 and w.isalpha()
                                             for w in a.paragraphs[0].split()))


def seed_paragraphs(run, seed_index, query) -> set[int]:
    return {h["paragraph"] for h in hits_of(run, query, "--index", seed_index.path,
                                            "--paragraphs", "-n", "50")}


def containing(*words) -> set[int]:
    return {i for i, p in enumerate(SEED.paragraphs) if all(w in p for w in words)}


@pytest.mark.parametrize("query,expected", [
    ('"ruta aérea directa"', containing("ruta aérea directa")),
    ('"RUTA AEREA DIRECTA"', containing("ruta aérea directa")),
    ('"profundo aprecio"', containing("profundo aprecio")),
    ('"soldado norcoreano"', containing("soldados norcoreanos")),       # stem-aware
    ("Kursk -liberación", containing("Kursk") - containing("liberación")),
    ("Kursk NOT liberacion", containing("Kursk") - containing("liberación")),
    ("Alaska OR Kursk", containing("Alaska") | containing("Kursk")),
    ("(Alaska OR Kursk) AND Trump", (containing("Alaska") | containing("Kursk")) & containing("Trump")),
    ("aliad*", containing("aliad")),
    ("norcor*", containing("norcorean")),
    ("Pyongyng~", containing("Pyongyang")),
])
def test_query_language_on_the_seed(run, seed_index, query, expected):
    assert expected and seed_paragraphs(run, seed_index, query) == expected


def test_prefix_and_fuzzy_highlight_the_words_they_matched(run, seed_index):
    hit = hits_of(run, "norcor*", "--index", seed_index.path, "--paragraphs")[0]
    marked = {hit["text"][s:e] for s, e in hit["highlights"]}
    assert marked and all(w.startswith("norcorean") for w in marked)
    hit = hits_of(run, "Pyongyng~", "--index", seed_index.path)[0]
    assert {hit["text"][s:e] for s, e in hit["highlights"]} == {"Pyongyang"}


def test_title_and_source_fields(run, sample_index):
    bbc = [a for a in SAMPLE if a.source == "BBC News"]
    word = next(w for w in bbc[0].paragraphs[0].split() if len(w) >= 6 and w.isalpha())
    got = hits_of(run, f"fuente:bbc {word}", "--index", sample_index.path, "-n", "50")
    assert got and all("bbc" in h["source"].lower() for h in got)
    assert {h["article_id"] for h in got} >= {bbc[0].article_id}
    phrase = hits_of(run, f'source:"BBC News" {word}', "--index", sample_index.path, "-n", "50")
    assert {h["article_id"] for h in phrase} == {h["article_id"] for h in got}
    in_title = hits_of(run, "titulo:Putin", "--index", sample_index.path, "-n", "50")
    assert in_title and all("Putin" in h["title"] for h in in_title)
    assert hits_of(run, "title:Putin", "--index", sample_index.path, "-n", "50") == in_title


@pytest.mark.parametrize("query,message", [
    ("Putin AND", "'AND' needs a word after it"),
    ("OR Kim", "'OR' needs a word before it"),
    ("Putin AND OR Kim", "needs a word"),
    ("autor:Putin", "unknown field 'autor:'"),
])
def test_broken_syntax_points_at_the_problem(run, seed_index, query, message):
    result = run("query", query, "--index", seed_index.path)
    assert result.exit_code == 2 and message in result.stderr


def test_date_filters(run, sample_index):
    dated = sorted((a for a in SAMPLE if a.date), key=lambda a: a.date)
    mid = dated[len(dated) // 2].date
    query = words_of(dated)
    since = hits_of(run, query, "--words", "--since", mid, "--index", sample_index.path,
                    "-n", "200")
    assert since and all(h["date"] and h["date"] >= mid for h in since)
    assert {h["article_id"] for h in since} == {a.article_id for a in dated if a.date >= mid}
    year = mid[:4]
    within = hits_of(run, query, "--words", "--since", year, "--until", year,
                     "--index", sample_index.path, "-n", "200")
    assert {h["article_id"] for h in within} == \
        {a.article_id for a in dated if a.date.startswith(year)}
    month = hits_of(run, "Kursk", "--since", "2025-08", "--until", "2025-08",
                    "--index", sample_index.path)
    assert [h["article_id"] for h in month] == [SEED_ID]        # the month includes the 13th
    assert hits_of(run, "Kursk", "--until", "2025-08-12", "--index", sample_index.path) == []
    for bad in ("13/08/2025", "2025-13", "ayer"):
        result = run("query", "Kursk", "--since", bad, "--index", sample_index.path)
        assert result.exit_code == 2 and f"invalid date '{bad}'" in result.stderr


def test_source_filter_and_sort_by_date(run, sample_index):
    name = next(a.source for a in SAMPLE if a.source and not a.source.isascii()
                or a.source == "BBC News")
    query = words_of(SAMPLE)
    got = hits_of(run, query, "--words", "--source", name.upper(), "--index",
                  sample_index.path, "-n", "100")
    assert {h["article_id"] for h in got} == \
        {a.article_id for a in SAMPLE if a.source and a.source.lower() == name.lower()}
    two = hits_of(run, query, "--words", "--source", name, "--source", "ALERTA digital",
                  "--index", sample_index.path, "-n", "100")
    assert {h["source"].lower() for h in two} == {name.lower(), "alerta digital"}
    newest = hits_of(run, query, "--words", "--sort", "date", "--index", sample_index.path,
                     "-n", "30")
    dates = [h["date"] for h in newest]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True) and newest[0]["score"] is None
    assert dates == dated + [None] * (len(dates) - len(dated))      # the undated come last


def test_grouped_by_article_by_default(run, sample_index):
    grouped = hits_of(run, "gobierno", "--index", sample_index.path, "-n", "100")
    ids = [h["article_id"] for h in grouped]
    assert len(ids) == len(set(ids))
    every = hits_of(run, "gobierno", "--paragraphs", "--no-dedup", "--index", sample_index.path,
                    "-n", "1000")
    per_article = {}
    for h in every:
        per_article[h["article_id"]] = per_article.get(h["article_id"], 0) + 1
    assert {h["article_id"]: h["matches"] for h in grouped} == per_article
    assert len(every) > len(grouped)


def test_wire_story_in_two_outlets_is_one_hit(run, tmp_path):
    shared = SEED.paragraphs[5]
    reworded = shared.replace("miles de soldados", "millares de soldados")
    articles = [
        {"id": "agencia-1", "title": "Kim apoya a Rusia", "source": "Agencia Uno",
         "date": "2025-08-13", "text": [SEED.paragraphs[0], shared]},
        {"id": "diario-2", "title": "Corea del Norte y Kursk", "source": "Diario Dos",
         "date": "2025-08-14", "text": [reworded, SEED.paragraphs[9]]},
    ]
    (tmp_path / "wire.json").write_text(json.dumps(articles), encoding="utf-8")
    ix = tmp_path / "ix"
    assert run("index", tmp_path / "wire.json", "--index", ix, "-q").exit_code == 0
    (hit,) = hits_of(run, "municiones Kursk", "--index", ix)
    assert [d["article_id"] for d in hit["duplicates"]] == \
        [{"agencia-1": "diario-2", "diario-2": "agencia-1"}[hit["article_id"]]]
    text = run("query", "municiones Kursk", "--index", ix).stdout
    assert "also in: " in text
    assert len(hits_of(run, "municiones Kursk", "--index", ix, "--no-dedup")) == 2


def test_a_story_reprinted_many_times_still_leaves_a_full_page(run, tmp_path):
    """Thirty outlets print the same paragraph, which ranks first: it is one hit that lists
    the others, and the page still holds ten distinct paragraphs."""
    shared = SEED.paragraphs[5]
    articles = [{"id": f"eco-{n}", "title": f"Nota {n}", "source": f"Diario {n}",
                 "text": [shared]} for n in range(30)]
    articles += [{"id": f"otra-{n}", "title": f"Otra {n}", "text": [p]}
                 for n, p in enumerate(SEED.paragraphs) if n != 5 and ("Kursk" in p or "Ucrania" in p)]
    articles += [{"id": f"mas-{n}", "title": "Ucrania", "text": [f"Ucrania, día {n}."]}
                 for n in range(12)]
    (tmp_path / "eco.json").write_text(json.dumps(articles), encoding="utf-8")
    ix = tmp_path / "ix"
    assert run("index", tmp_path / "eco.json", "--index", ix, "-q").exit_code == 0
    hits = hits_of(run, "Kursk Ucrania", "--index", ix)
    assert len(hits) == 10 and hits[0]["text"] == shared
    assert len(hits[0]["duplicates"]) == 29
    assert len({h["text"] for h in hits}) == 10
    # the hits found by looking deeper are highlighted like the first ones
    for h in hits:
        marked = {h["text"][a:b] for a, b in h["highlights"]}
        assert marked and marked <= {"Kursk", "Ucrania"}, h


def test_did_you_mean_restores_accents(run, seed_index):
    result = run("query", "coperacion", "--index", seed_index.path)
    assert result.exit_code == 1 and "did you mean: cooperación" in result.stderr
    result = run("query", "Pyongyng", "--index", seed_index.path, "--json")
    assert json.loads(result.stdout.splitlines()[-1]) == {"did_you_mean": "Pyongyang",
                                                           "query": "Pyongyng"}
    assert "did you mean" not in run("query", "Pyongyang", "--index", seed_index.path).stderr


def test_explain_shows_parse_and_terms(run, seed_index):
    result = run("query", "cooperacion estratégicas -Kursk", "--explain", "--index",
                 seed_index.path)
    assert "cooperacion → cooper" in result.stderr and "estratégicas → estrateg" in result.stderr
    assert "NOT" in result.stderr and result.exit_code == 0


def test_show_marks_the_paragraph(run, seed_index):
    result = run("show", SEED_ID, "--paragraph", "6", "--index", seed_index.path)
    assert result.exit_code == 0 and SEED.title in result.stdout
    lines = [ln for ln in result.stdout.splitlines() if ln[:1] == ">"]
    assert len(lines) == 1 and lines[0].startswith(">  6. " + SEED.paragraphs[5][:20])
    data = json.loads(run("show", SEED_ID, "--json", "--index", seed_index.path).stdout)
    assert data["paragraphs"] == list(SEED.paragraphs) and data["date"] == "2025-08-13"
    assert run("show", "no-such-id", "--index", seed_index.path).exit_code == 2
    assert "has 11 paragraphs" in run("show", SEED_ID, "-p", "12", "--index",
                                      seed_index.path).stderr


def test_similar_articles(run, sample_index):
    source = next(a for a in SAMPLE if len(a.paragraphs) > 5)
    result = run("similar", source.article_id, "--json", "--index", sample_index.path, "-n", "5")
    got = [json.loads(x) for x in result.stdout.splitlines()]
    assert result.exit_code == 0 and 0 < len(got) <= 5
    assert source.article_id not in {h["article_id"] for h in got}
    assert all(h["highlights"] for h in got)
    assert run("similar", "no-such-id", "--index", sample_index.path).exit_code == 2


def test_batch_mode(run, seed_index, tmp_path):
    batch = tmp_path / "queries.txt"
    batch.write_text('Kursk\n{"id": "q-alaska", "query": "Alaska"}\n\n"roto\nzanahoria\n',
                     encoding="utf-8")
    result = run("query", "--batch", batch, "--index", seed_index.path, "--paragraphs")
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert result.exit_code == 2                         # one query was broken
    assert {x["query_id"] for x in lines if "rank" in x} == {1, "q-alaska"}
    assert sum(1 for x in lines if x["query_id"] == 1 and "rank" in x) == len(containing("Kursk"))
    assert [x["error"] for x in lines if "error" in x][0].startswith("unbalanced quote")
    assert run("query", "--index", seed_index.path).exit_code == 2     # neither query nor batch


@pytest.mark.parametrize("query,words", [
    ('"soldados norcoreanos" OR Alaska', [("soldados", "norcoreanos"), ("Alaska",)]),
    ('Kursk AND "fuerzas rusas"', [("Kursk", "fuerzas rusas")]),
    ('("fuerzas rusas" OR Alaska) AND Kursk', [("fuerzas rusas", "Kursk"), ("Alaska", "Kursk")]),
])
def test_a_phrase_is_an_operand_like_a_word(run, seed_index, query, words):
    """A quoted phrase next to AND/OR, or inside parentheses, is what the operator joins."""
    found = seed_paragraphs(run, seed_index, query)
    assert found == set().union(*(containing(*w) for w in words)) and found


def test_a_question_mark_inside_a_word_is_one_letter(run, seed_index):
    """``?`` between letters stands for one letter (``co?peracion``); at a word's edge it is
    the question's punctuation (``¿cooperación?``)."""
    plain = seed_paragraphs(run, seed_index, "cooperación")
    assert plain and seed_paragraphs(run, seed_index, "co?peraci?n") == plain
    assert seed_paragraphs(run, seed_index, "¿cooperación?") == plain
    result = run("query", "co?peracion", "--index", seed_index.path)
    assert "[[cooperación]]" in result.stdout and "did you mean" not in result.stderr


def test_a_colon_before_a_space_is_punctuation(run, seed_index):
    """A headline pasted as a query: ``Putin: Kursk`` is the words Putin and Kursk, not a
    field named Putin (a field is ``name:value``, nothing between)."""
    hits = hits_of(run, "Putin: Kursk", "--index", seed_index.path, "--paragraphs")
    assert hits == hits_of(run, "Putin Kursk", "--index", seed_index.path, "--paragraphs")
    assert hits[0]["paragraph"] in containing("Putin", "Kursk")
    result = run("query", "Putin:Kursk", "--index", seed_index.path)
    assert result.exit_code == 2 and "unknown field 'Putin:'" in result.stderr
