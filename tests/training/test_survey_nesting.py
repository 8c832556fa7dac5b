"""A deeply nested JSON line or file is a DataError naming the line: issue 22, item 7."""

from __future__ import annotations

from pathlib import Path

import pytest

from s2b_env.errors import DataError, parse_json
from training.survey_io import load_items, load_phrasings


def test_deeply_nested_items_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a"}\n\n' + "[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"items\.jsonl, line 3: JSON nested too deeply"):
        load_items(path)


def test_deeply_nested_phrasings_file(tmp_path: Path) -> None:
    path = tmp_path / "phrasings.json"
    path.write_text("\n" + "[" * 100_000, encoding="utf-8")
    with pytest.raises(DataError, match=r"phrasings\.json, line 2: JSON nested too deeply"):
        load_phrasings(path)
    with pytest.raises(DataError, match="nested too deeply"):
        parse_json(path, '{"a": ' * 100_000)
