"""Whatever a user types or pastes as a query, searchnews answers: exit 0 (found), 1
(nothing) or 2 (a bad query, said in one line), never "internal error", never a traceback.
Random and adversarial strings (quotes, operators, wildcards, fields, control characters,
emoji, long input) through the real CLI on the seed index."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from click.testing import CliRunner

from searchnews.cli import main

PIECES = ["Putin", "Kursk", "soldado", "norcoreanos", "cooperación", "de", "la", "contra",
          '"', '"fuerzas rusas"', "(", ")", "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "-", "+",
          "*", "?", "~", "~2", "~9", ":", "titulo:", "fuente:", "title:", "autor:", "text:",
          "co?peracion", "coop*", "*a", "Pyongyng~", "¿", "¡", "…", "—", "'", "\\", "/", "^",
          "[", "]", "{", "}", "1999", "2025-08-13", "\t", "\n", "\x00", "\x1b[31m", "🇷🇺", "🙂",
          "Ñandú", "İ", "ß", "日本", " "]
queries = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map(" ".join),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join),
    st.text(min_size=1, max_size=40),
    st.text(alphabet=st.sampled_from('"()*?~:-+ aeiouKPñ'), min_size=1, max_size=30),
)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 300)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=queries)
# what this test found first, each once an internal error or a message of several lines
@example(text=")\r0")
@example(text="*\r0")
@example(text="0(-)")
@example(text='"0\'0"fuente:0?0')
@example(text="\x85)")
@example(text="- Putin")
def test_any_query_gets_an_answer(seed_index, text):
    # after "--", as a script passes a query that may begin with "-" (like grep)
    result = CliRunner().invoke(main, ["query", "--index", str(seed_index.path), "-n", "3",
                                       "--", text], catch_exceptions=False)
    assert result.exit_code in (0, 1, 2), (text, result.exit_code, result.stderr)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, \
        (text, result.stderr)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, (text, result.stderr)


def test_a_very_long_query_gets_an_answer(seed_index):
    text = " ".join(["Putin Kursk cooperación soldado"] * 2500)        # 10k words
    result = CliRunner().invoke(main, ["query", text, "--index", str(seed_index.path)],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1, 2) and "internal error" not in result.stderr
