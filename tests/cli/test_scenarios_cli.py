"""``s2b scenarios validate`` and ``s2b scenarios import``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from rich.console import Console

from games import data_path
from s2b.cli import main

GOOD = {
    "schema_version": 1,
    "kind": "judgment",
    "id": "c-1",
    "title": "Took the parking spot",
    "text": "I took a parking spot someone else was waiting for.",
    "values": [{"value": "hedonism", "side": "narrator"}],
}


def _run(argv: list[str]) -> tuple[int, str]:
    console = Console(file=StringIO(), width=80)
    code = main(argv, console=console)
    return code, console.file.getvalue()  # type: ignore[attr-defined]


def test_validate_shipped_files() -> None:
    files = [str(data_path("scenarios", n)) for n in ("judgments.jsonl", "dilemmas.jsonl")]
    code, out = _run(["scenarios", "validate", *files])
    assert code == 0, out
    assert "j001" in out and "d001" in out and " 0 bad" in out


def test_validate_reports_every_line(tmp_path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        GOOD,
        GOOD | {"id": "c-2", "values": [{"value": "kindness", "side": "other"}]},
        GOOD | {"id": "c-3"},
        GOOD,
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out = _run(["scenarios", "validate", str(path)])
    assert code == 1
    assert "c-1" in out and "c-3" in out and "2 valid, 2 bad" in out
    assert f"{path}, line 2, field 'values[0].value': unknown value id 'kindness'" in out
    assert f"{path}, line 4, field 'id': duplicate id 'c-1'" in out


def test_validate_reports_non_utf8_and_too_deep_lines(tmp_path) -> None:
    path = tmp_path / "bytes.jsonl"
    good = [json.dumps(GOOD | {"id": f"c-{n}"}).encode("utf-8") for n in (1, 2, 3)]
    lines = [good[0], b'{"id": "\xff"}', good[1], b"[" * 200_000, good[2]]
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, out = _run(["scenarios", "validate", str(path)])
    assert code == 1, out
    assert "c-1" in out and "c-2" in out and "c-3" in out and "3 valid, 2 bad" in out
    assert f"{path}, line 2: not UTF-8 text" in out
    assert f"{path}, line 4: nested too deeply" in out
    assert "internal error" not in out


def test_validate_missing_file(tmp_path) -> None:
    code, out = _run(["scenarios", "validate", str(tmp_path / "nope.jsonl")])
    assert code == 2 and "does not exist" in out


def test_import_aita_csv_then_validate(tmp_path) -> None:
    src = tmp_path / "aita.csv"
    src.write_text(
        "id,title,body,verdict\n"
        "1,AITA for the parking spot?,I took a spot someone was waiting for.,YTA\n"
        "2,AITA for the noise?,I asked my neighbour to be quieter at 2am.,Not the A-hole\n",
        encoding="utf-8",
    )
    out_file = tmp_path / "aita.jsonl"
    code, out = _run(
        ["scenarios", "import", "--format", "aita-csv", str(src), "--out", str(out_file)]
    )
    assert code == 0, out
    assert "imported 2 of 2 rows" in out
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [r["verdicts"]["YTA"] for r in records] == [1.0, 0.0]
    code, out = _run(["scenarios", "validate", str(out_file)])
    assert code == 0 and "2 valid, 0 bad" in out


def test_import_reports_rows_left_out(tmp_path, capsys) -> None:
    src = tmp_path / "anecdotes.jsonl"
    rows = [
        {"id": "x1", "title": "t", "text": "A story.", "label": "AUTHOR"},
        {"id": "x2", "title": "t", "text": "Another story.", "label": "MAYBE"},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out_file = tmp_path / "out.jsonl"
    code, out = _run(
        ["scenarios", "import", "--format", "scruples", str(src), "--out", str(out_file)]
    )
    assert code == 1
    assert "imported 1 of 2 rows" in out and "x2" in out and "1 left out" in out
    assert len(out_file.read_text().splitlines()) == 1
    with pytest.raises(SystemExit) as stop:  # argparse: a required option is missing
        _run(["scenarios", "import", "--format", "scruples", str(src)])
    assert stop.value.code == 2
    assert "the following arguments are required: --out" in capsys.readouterr().err
