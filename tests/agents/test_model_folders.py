"""Broken model folders are one clear error naming the file: issue 22, item 7 (model folders).

The folders are the real default model's files (linked, not copied) with one file broken.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from agents.backends.base import BackendError
from agents.models import ModelFolderError, resolve_model
from s2b.cli import main

pytest.importorskip("transformers", reason="needs s2b[llm]")


def _copy_by_links(source: Path, target: Path) -> Path:
    target.mkdir()
    for file in source.iterdir():
        (target / file.name).symlink_to(file)
    return target


def _break(default_model_dir: Path, tmp_path: Path, how: str) -> Path:
    folder = _copy_by_links(default_model_dir, tmp_path / how)
    if how == "config":
        (folder / "config.json").unlink()
        (folder / "config.json").write_text('{"architectures": ["Llama', encoding="utf-8")
    elif how == "weights":
        (folder / "model.safetensors").unlink()
        with (default_model_dir / "model.safetensors").open("rb") as full:
            (folder / "model.safetensors").write_bytes(full.read(1000))
    elif how == "truncated":
        (folder / "model.safetensors").unlink()
        with (default_model_dir / "model.safetensors").open("rb") as full:
            (folder / "model.safetensors").write_bytes(full.read(200_000))
    elif how == "tokenizer":
        for name in ("tokenizer.json", "tokenizer_config.json"):
            (folder / name).unlink()
    return folder


CASES = [
    ("config", r"config\.json: not valid JSON at line 1"),
    ("weights", r"model\.safetensors: not a safetensors file, or cut short"),
    (
        "truncated",
        r"model\.safetensors: cut short: its tensors need \d+ bytes, the file has 200000",
    ),
    ("tokenizer", r"no tokenizer: expected one of tokenizer\.json"),
]


@pytest.mark.parametrize(("how", "message"), CASES)
def test_broken_model_folder_is_one_clear_error(default_model_dir, tmp_path, how, message):
    folder = _break(default_model_dir, tmp_path, how)
    with pytest.raises(ModelFolderError, match=message) as err:
        resolve_model(str(folder))
    assert str(folder) in str(err.value) and "fix:" in str(err.value)
    from agents.backends.transformers_backend import TransformersBackend

    with pytest.raises(BackendError, match=message):
        TransformersBackend(folder)


@pytest.mark.parametrize(("how", "message"), CASES[:2])
def test_cli_reports_a_broken_model_folder_without_a_traceback(
    default_model_dir, tmp_path, how, message
):
    folder = _break(default_model_dir, tmp_path, how)
    console = Console(file=StringIO(), width=400)
    code = main(["serve", "--model", str(folder)], console=console)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert code == 2, out
    assert "internal error" not in out and str(folder) in out


def test_the_default_model_folder_passes(default_model_dir) -> None:
    assert resolve_model(str(default_model_dir)) == default_model_dir
    assert json.loads((default_model_dir / "config.json").read_text())["model_type"] == "llama"
