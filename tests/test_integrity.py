"""Damage is found, never served: real index files damaged at many offsets (cut short,
bytes flipped, a file removed) give a clear error or the very answer of the sound index —
never another answer, never an indexing run that reports success — and ``searchnews check
--repair`` brings the index back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import DATA, SEEDS

QUERIES = ["Kursk", "gobierno México", '"fuerzas rusas"', "elecciones"]


def _answers(run, ix: Path) -> list[tuple[int, str]]:
    out = []
    for q in QUERIES:
        r = run("query", q, "--index", ix, "--json")
        out.append((r.exit_code, r.stdout))
    return out


def _flip(path: Path, at: float) -> None:
    data = bytearray(path.read_bytes())
    i = min(int(len(data) * at), len(data) - 1)
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _cut(path: Path, at: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * at)])


DAMAGE = [("cut", 0.5), ("cut", 0.98), ("cut", 0.02)] + \
    [("flip", x) for x in (0.0, 0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98, 0.999)]


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    """A sound index of the seed and the sample (two commits: the second changes nothing
    but runs the indexer over it), with the answers it gives."""
    from click.testing import CliRunner
    from searchnews.cli import main
    folder = tmp_path_factory.mktemp("sound") / "ix"
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert run("index", SEEDS, DATA, "--index", folder, "-q").exit_code == 0
    return folder, _answers(run, folder)


def _live_files(ix: Path) -> list[Path]:
    gen = ix / (ix / "CURRENT").read_text().strip()
    return sorted(p for p in gen.iterdir() if p.suffix in (".seg", ".toc"))


@pytest.mark.parametrize("target", ["segment", "toc"])
@pytest.mark.parametrize("how,at", DAMAGE)
def test_damage_is_an_error_or_the_sound_answer(sound, run, tmp_path, target, how, at):
    folder, expected = sound
    ix = tmp_path / "ix"
    shutil.copytree(folder, ix)
    files = _live_files(ix)
    victim = max((f for f in files if f.suffix == (".seg" if target == "segment" else ".toc")),
                 key=lambda f: f.stat().st_size)
    (_cut if how == "cut" else _flip)(victim, at)
    for (code, out), q in zip(expected, QUERIES):
        r = run("query", q, "--index", ix, "--json")
        if r.exit_code == 2:
            assert len(r.stderr.strip().splitlines()) == 1 and "internal error" not in r.stderr
            assert "damaged" in r.stderr or "not a usable" in r.stderr, r.stderr
        else:
            assert (r.exit_code, r.stdout) == (code, out), f"a different answer to {q}"
    again = run("index", SEEDS, DATA, "--index", ix)
    assert again.exit_code == 2 and "is damaged" in again.stderr      # never success
    checked = run("check", "--index", ix)
    assert checked.exit_code == 2 and victim.name in checked.stderr
    repaired = run("check", "--repair", "--index", ix)
    assert repaired.exit_code == 0, repaired.stderr
    assert _answers(run, ix) == expected
    assert run("check", "--index", ix, "--json").exit_code == 0


def test_a_missing_segment_is_an_error_and_is_repaired(sound, run, tmp_path):
    folder, expected = sound
    ix = tmp_path / "ix"
    shutil.copytree(folder, ix)
    next(f for f in _live_files(ix) if f.suffix == ".seg").unlink()
    r = run("query", "Kursk", "--index", ix)
    assert r.exit_code == 2 and "missing" in r.stderr and "check --repair" in r.stderr
    assert run("index", SEEDS, DATA, "--index", ix).exit_code == 2
    assert run("check", "--repair", "--index", ix).exit_code == 0
    assert _answers(run, ix) == expected


def test_a_sound_index_checks_sound(sound, run):
    folder, _ = sound
    result = run("check", "--index", folder, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["damaged"] == [] and report["files"] >= 2
