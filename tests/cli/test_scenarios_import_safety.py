"""``s2b scenarios import`` never loses data: issue 22, items 1, 2 and 7 (the CSV cases)."""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
from rich.console import Console

from s2b.cli import main

GOOD_CSV = "id,title,body,verdict\np1,t,body,NTA\np2,t2,other body,YTA\n"


def _run(argv: list[str]) -> tuple[int, str]:
    console = Console(file=StringIO(), width=400)
    code = main([str(a) for a in argv], console=console)
    return code, console.file.getvalue()  # type: ignore[attr-defined]


def _existing(tmp_path, lines: int = 150):
    out = tmp_path / "kept.jsonl"
    text = "".join(json.dumps({"n": n}) + "\n" for n in range(lines))
    out.write_text(text, encoding="utf-8")
    return out, text


# --- item 1: --out is never overwritten by surprise ----------------------------------------------


def test_import_refuses_to_write_over_its_input(tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD_CSV, encoding="utf-8")
    for extra in ([], ["--force"]):
        code, out = _run(["scenarios", "import", src, "--out", src, *extra])
        assert code == 2, out
        assert "is the input" in out and "internal error" not in out
        assert src.read_text(encoding="utf-8") == GOOD_CSV  # the CSV is still there
    link = tmp_path / "alias.jsonl"
    link.symlink_to(src)
    code, out = _run(["scenarios", "import", src, "--out", link, "--force"])
    assert code == 2 and "is the input" in out
    assert src.read_text(encoding="utf-8") == GOOD_CSV


def test_import_refuses_an_existing_out_unless_force(tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD_CSV, encoding="utf-8")
    out_file, before = _existing(tmp_path)
    code, out = _run(["scenarios", "import", src, "--out", out_file])
    assert code == 2 and "already exists" in out and "--force" in out
    assert out_file.read_text(encoding="utf-8") == before
    code, out = _run(["scenarios", "import", src, "--out", out_file, "--force"])
    assert code == 0, out
    assert [json.loads(x)["id"] for x in out_file.read_text().splitlines()] == ["p1", "p2"]


def test_failed_import_leaves_an_existing_out_as_it_was(tmp_path) -> None:
    out_file, before = _existing(tmp_path)
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("id,title,text\n1,t,x\n", encoding="utf-8")
    code, out = _run(["scenarios", "import", bad_header, "--out", out_file, "--force"])
    assert code == 2 and "missing column 'body'" in out
    assert out_file.read_text(encoding="utf-8") == before
    no_good_row = tmp_path / "none.csv"
    no_good_row.write_text("id,title,body,verdict\n1,t,x,maybe\n", encoding="utf-8")
    code, out = _run(["scenarios", "import", no_good_row, "--out", out_file, "--force"])
    assert code == 1 and "nothing written" in out
    assert out_file.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "kept.jsonl", "none.csv"]


def test_write_is_atomic_when_it_fails_midway(tmp_path, monkeypatch) -> None:
    """A write that fails part way (disk full) leaves the old file whole and no temp file."""
    from s2b_env.scenarios import importers

    src = tmp_path / "in.csv"
    src.write_text(GOOD_CSV, encoding="utf-8")
    out_file, before = _existing(tmp_path)
    result = importers.import_file(src, "aita-csv")
    real_dumps = json.dumps
    calls = []

    def failing_dumps(obj, **kwargs):  # the second record hits a full disk
        calls.append(obj)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_dumps(obj, **kwargs)

    monkeypatch.setattr(importers.json, "dumps", failing_dumps)
    with pytest.raises(OSError, match="No space"):
        result.write_jsonl(out_file, replace=True)
    assert out_file.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "kept.jsonl"]


@pytest.mark.parametrize("kind", ["directory", "under_a_file"])
def test_out_that_cannot_be_a_file_is_a_clear_error(tmp_path, kind: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD_CSV, encoding="utf-8")
    if kind == "directory":
        target = tmp_path / "somedir"
        target.mkdir()
    else:
        target = src / "out.jsonl"  # a "folder" that is the CSV file
    code, out = _run(["scenarios", "import", src, "--out", target, "--force"])
    assert code == 2, out
    assert str(target) in out and "internal error" not in out
    assert src.read_text(encoding="utf-8") == GOOD_CSV


def test_new_out_gets_ordinary_permissions(tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD_CSV, encoding="utf-8")
    out_file = tmp_path / "new" / "out.jsonl"
    code, out = _run(["scenarios", "import", src, "--out", out_file])
    assert code == 0, out
    umask = os.umask(0)
    os.umask(umask)
    assert out_file.stat().st_mode & 0o777 == 0o666 & ~umask


# --- item 2: stray quotes never merge rows silently -----------------------------------------------


def test_issue_example_stray_quote_is_an_error_at_its_line(tmp_path) -> None:
    src = tmp_path / "q.csv"
    src.write_text(
        'id,title,body,verdict\np1,t,"body with stray,NTA\np2,t,body2,YTA\np3,t,body3,NTA\n'
        'p4,t,body " quote,NAH\n',
        encoding="utf-8",
    )
    code, out = _run(["scenarios", "import", src, "--out", tmp_path / "q.jsonl"])
    assert code == 2, out
    assert f"{src}, line 2" in out and "quote" in out
    assert not (tmp_path / "q.jsonl").exists()


def test_quote_that_closes_cleanly_but_swallows_rows(tmp_path) -> None:
    src = tmp_path / "m.csv"
    src.write_text(
        'id,title,body,verdict\np1,t,"body,NTA\np2,t,body2,YTA\np3,t,body3",NTA\np4,t,b4,NAH\n',
        encoding="utf-8",
    )
    code, out = _run(["scenarios", "import", src, "--out", tmp_path / "m.jsonl"])
    assert code == 2, out
    assert f"{src}, line 2, field 'body'" in out and "line 3" in out
    assert not (tmp_path / "m.jsonl").exists()


def test_unterminated_quote_is_reported_where_it_opens(tmp_path) -> None:
    src = tmp_path / "u.csv"
    src.write_text(
        'id,title,body,verdict\np1,t,"a\nlong story",NTA\np2,t,fine,YTA\np3,"open title,b,NTA\n'
        "p4,t,b4,NAH\n",
        encoding="utf-8",
    )
    code, out = _run(["scenarios", "import", src, "--out", tmp_path / "u.jsonl"])
    assert code == 2, out
    assert f"{src}, line 5" in out and "never closed" in out


def test_multiline_bodies_that_are_prose_still_import(tmp_path) -> None:
    """A harmless variant: quoted bodies over several lines, commas and quotes inside."""
    src = tmp_path / "ok.csv"
    src.write_text(
        'id,title,body,verdict\np1,t,"First, I asked.\nThen, she said ""no"", and left.\n'
        'Later, I called, twice.",NTA\np2,t,She said 5" of snow,YTA\n',
        encoding="utf-8",
    )
    code, out = _run(["scenarios", "import", src, "--out", tmp_path / "ok.jsonl"])
    assert code == 0, out
    records = [json.loads(x) for x in (tmp_path / "ok.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["p1", "p2"]
    assert 'she said "no"' in records[0]["text"] and records[1]["text"] == 'She said 5" of snow'


def test_row_with_too_many_fields_is_reported_not_cut(tmp_path) -> None:
    src = tmp_path / "f.csv"
    src.write_text("id,title,body,verdict\np1,t,I said, no,NTA\np2,t,b,YTA\n", encoding="utf-8")
    code, out = _run(["scenarios", "import", src, "--out", tmp_path / "f.jsonl"])
    assert code == 1, out
    assert "expected 4 fields" in out and "1 left out" in out


# --- item 7 (CSV): a huge cell, a non-UTF-8 file ----------------------------------------------------


def test_cell_over_128_kib_is_a_clear_error(tmp_path) -> None:
    src = tmp_path / "big.csv"
    src.write_text(f"id,title,body,verdict\np1,t,ok,NTA\np2,t,{'x' * 140_000},YTA\n")
    code, out = _run(["scenarios", "import", src, "--out", tmp_path / "big.jsonl"])
    assert code == 2, out
    assert f"{src}, line 3" in out and "131072" in out and "internal error" not in out


def test_non_utf8_csv_names_the_line(tmp_path) -> None:
    src = tmp_path / "latin1.csv"
    src.write_bytes("id,title,body,verdict\np1,t,ok,NTA\np2,t,caf\xe9,YTA\n".encode("latin-1"))
    code, out = _run(["scenarios", "import", src, "--out", tmp_path / "l.jsonl"])
    assert code == 2, out
    assert f"{src}, line 3" in out and "UTF-8" in out and "internal error" not in out


def test_scruples_non_utf8_and_deeply_nested_lines_are_row_errors(tmp_path) -> None:
    src = tmp_path / "s.jsonl"
    good = json.dumps({"id": "s1", "title": "t", "text": "A story.", "label": "AUTHOR"})
    src.write_bytes(good.encode() + b'\n{"id": "\xff"}\n' + b"[" * 100_000 + b"\n")
    code, out = _run(["scenarios", "import", "--format", "scruples", src, "--out", tmp_path / "o"])
    assert code == 1, out
    assert "imported 1 of 3 rows" in out and "internal error" not in out
    assert "UTF-8" in out and "nested too deeply" in out
