"""What a resumed ``s2b align`` run depends on: no paths as typed, options ``s2b align`` has, and
training figures that survive a call with no step left.

Nothing is trained; the checks are called directly (the adapter-path check loads the real
backend on a real adapter).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from s2b_env.errors import DataError
from training.align import (
    TARGET_PROFILE_COPY,
    _restart_hint,
    keep_target_profile,
    target_profile_source,
)
from training.align_config import build_config
from training.profile import ADAPTER_WEIGHTS, ProfileConfig, ResultsLog, run_meta
from training.sft import call_speed, run_mean_loss
from training.survey_io import load_survey
from training.targets import load_target_profile


def test_aligned_profile_meta_does_not_depend_on_the_adapter_path(
    tmp_path: Path, monkeypatch, default_model_dir: Path, lora_adapter: Path
) -> None:
    """The real in-process backend on a real adapter, typed relatively, absolutely and moved."""
    from agents.backends.transformers_backend import TransformersBackend

    survey = load_survey()
    config = ProfileConfig(items="heldout", values=("hedonism",), out=tmp_path / "p")
    run = tmp_path / "runs" / "align" / "X"
    shutil.copytree(lora_adapter, run / "adapter")
    monkeypatch.chdir(tmp_path)
    typed = TransformersBackend(default_model_dir, adapter=Path("runs/align/X/adapter"))
    absolute = TransformersBackend(default_model_dir, adapter=run / "adapter")
    meta_typed, meta = run_meta(typed, survey, config), run_meta(absolute, survey, config)
    typed.close()
    absolute.close()
    # the same weights, however the path was typed: the same model, named by the weights' hash
    assert meta_typed["model"] == meta["model"]
    assert "sha256:" in meta["model"] and str(run) not in meta["model"]

    moved = tmp_path / "elsewhere" / "X"
    shutil.move(run, moved)
    backend = TransformersBackend(default_model_dir, adapter=moved / "adapter")
    assert run_meta(backend, survey, config) == meta
    weights = moved / "adapter" / ADAPTER_WEIGHTS
    weights.write_bytes(weights.read_bytes() + b" ")  # other weights: another model
    assert run_meta(backend, survey, config) != meta
    backend.close()
    # without an adapter the model name is used as it is
    base = TransformersBackend(default_model_dir)
    assert run_meta(base, survey, config)["model"] == base.model_name
    base.close()


def test_different_run_error_names_options_the_command_has(tmp_path: Path) -> None:
    out = tmp_path / "profiles" / "aligned-heldout"
    ResultsLog(out, {"model": "a"})
    with pytest.raises(ValueError, match="pass --no-resume") as err:
        ResultsLog(out, {"model": "b"})
    assert "'model': ('a', 'b')" in str(err.value)
    with pytest.raises(ValueError) as err:
        ResultsLog(out, {"model": "b"}, restart_hint=_restart_hint(out))
    message = str(err.value)
    assert "--no-resume" not in message and "--out" not in message
    assert f"delete {out}" in message and "--run-dir" in message


def test_target_profile_is_copied_and_the_copy_is_read_on_resume(tmp_path: Path) -> None:
    original = tmp_path / "target.json"
    original.write_text(json.dumps({"power_dominance": 2}))
    config = build_config(overrides={"target_profile": original})
    run = tmp_path / "run"
    run.mkdir()
    assert target_profile_source(config, run, resume=False) == original
    keep_target_profile(config, run)
    copy = run / TARGET_PROFILE_COPY
    assert load_target_profile(copy) == {"power_dominance": 2}

    # the original goes away (or the run is resumed from elsewhere): the copy is read
    original.unlink()
    assert target_profile_source(config, run, resume=True) == copy
    keep_target_profile(config, run)  # the run's copy is kept as it is
    assert load_target_profile(copy) == {"power_dominance": 2}
    # a run without a copy (made before copies were kept) reads the path as configured
    copy.unlink()
    with pytest.raises(DataError, match="no such file"):
        load_target_profile(target_profile_source(config, run, resume=True))
    with pytest.raises(ValueError, match=r"targets\.target_profile"):
        target_profile_source(build_config(overrides={"values": ("hedonism",)}), run, True)


def test_a_call_with_no_step_left_keeps_the_earlier_training_figures() -> None:
    # killed between the final checkpoint and train_summary.json: the resumed call does no step
    earlier = {"seconds": 120.5, "examples_per_second": 6.25}
    kw = {"max_steps": 108, "examples": 72, "epochs": 12.0, "seconds": 0.02}
    assert call_speed(steps_done=0, previous=earlier, **kw) == (120.5, 6.25)
    assert call_speed(steps_done=0, previous=None, **kw) == (0.02, None)
    assert call_speed(steps_done=0, previous={"examples_per_second": None}, **kw) == (0.02, None)
    # a call that trained reports its own speed: 54 of 108 steps = 432 examples in 10 s
    assert call_speed(steps_done=54, previous=earlier, **{**kw, "seconds": 10.0}) == (10.0, 43.2)


def test_mean_loss_covers_the_whole_run_from_the_log_history() -> None:
    history = [
        {"loss": 2.0, "step": 1},
        {"loss": 1.0, "step": 2},
        {"loss": 0.5, "step": 4},  # the mean of steps 3 and 4
        {"train_loss": 0.0, "step": 4},  # a resumed call with no step left reports 0.0
    ]
    assert run_mean_loss(history, 4) == pytest.approx((2.0 + 1.0 + 0.5 * 2) / 4)
    assert run_mean_loss(history, 2) == pytest.approx(1.5)  # later entries are ignored
    assert run_mean_loss([], 0) is None
