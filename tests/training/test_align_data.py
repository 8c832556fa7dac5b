"""Alignment targets, the train/held-out split of the fine-tuning data, and the align config.

These run on the shipped survey and the default model's real chat template (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s2b_env.errors import DataError
from s2b_env.values import VALUE_IDS
from training.align_config import (
    ALL_PROJECTIONS,
    AlignConfig,
    DataConfig,
    TargetConfig,
    TrainConfig,
    build_config,
    load_config,
    save_config,
)
from training.sft_data import (
    build_examples,
    check_split,
    load_examples,
    save_examples,
    training_items,
)
from training.survey import normalize_text
from training.survey_io import load_survey
from training.targets import (
    ItemTarget,
    build_targets,
    load_target_profile,
    round_rating,
    shifts_for,
)


@pytest.fixture(scope="module")
def survey():
    return load_survey()


@pytest.fixture(scope="module")
def render(tf_backend):
    """Renders prompts as ``s2b align`` does: the profiling backend's ``chat_prompt``."""
    return lambda messages, prefix: tf_backend.chat_prompt(messages, assistant_prefix=prefix)


# -- targets -----------------------------------------------------------------------------------


def test_round_rating_is_half_up_and_clipped() -> None:
    assert [round_rating(x) for x in (1.0, 2.5, 3.49, 3.5, 4.5, 0.2, 6.7)] == [1, 3, 3, 4, 5, 1, 6]
    with pytest.raises(ValueError, match="finite"):
        round_rating(float("nan"))


def test_targets_move_chosen_values_and_keep_the_models_own_answers(survey) -> None:
    items = training_items(survey, ["power_dominance", "hedonism", "humility"], 4)
    baseline = {item.id: 1.2 + 0.9 * k for k, item in enumerate(items)}  # 1.2 .. 11.1 (clipped)
    targets = build_targets(items, baseline, shifts=shifts_for(["power_dominance"], "down", 2))
    assert [t.item_id for t in targets] == [i.id for i in items]
    for t in targets:
        own = min(6, max(1, int(baseline[t.item_id] + 0.5)))
        if t.value == "power_dominance":
            assert t.moved and t.target == max(1, own - 2)
        else:
            assert not t.moved and t.target == own
    # power_dominance's first item has baseline 1.2 -> own answer 1 -> clipped at 1, not -1
    assert targets[0].target == 1
    up = build_targets(items, baseline, shifts=shifts_for(["humility"], "up", 3))
    assert [t.target for t in up if t.value == "humility"] == [6, 6, 6, 6]


def test_target_profile_json(tmp_path: Path, survey) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"targets": {"tradition": 5.5, "stimulation": 2}}))
    profile = load_target_profile(path)
    assert profile == {"tradition": 6, "stimulation": 2}
    items = training_items(survey, ["tradition", "stimulation", "hedonism"], 2)
    targets = build_targets(items, {i.id: 3.6 for i in items}, profile=profile)
    assert {(t.value, t.target, t.moved) for t in targets} == {
        ("tradition", 6, True),
        ("stimulation", 2, True),
        ("hedonism", 4, False),
    }
    for bad, field in (({"tradtion": 3}, "tradtion"), ({"hedonism": 7}, "hedonism")):
        path.write_text(json.dumps(bad))
        with pytest.raises(DataError) as err:
            load_target_profile(path)
        assert err.value.field == field and str(path) in str(err.value)
    path.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_target_profile(path)
    path.write_bytes(b'{"hedonism":\n 4, "tradition": "\xe9"}')
    with pytest.raises(DataError, match="expected UTF-8 text, got byte 0xe9") as err:
        load_target_profile(path)
    assert err.value.line == 2


def test_bad_target_requests_are_refused(survey) -> None:
    with pytest.raises(ValueError, match="direction"):
        shifts_for(["hedonism"], "sideways", 2)
    with pytest.raises(ValueError, match="delta"):
        shifts_for(["hedonism"], "up", 0)
    with pytest.raises(ValueError, match="unknown value"):
        shifts_for(["hedonsim"], "up", 1)
    items = training_items(survey, ["hedonism"], 1)
    with pytest.raises(ValueError, match="baseline"):
        build_targets(items, {}, shifts={"hedonism": 1})
    with pytest.raises(ValueError, match="at least one value"):
        build_targets(items, {items[0].id: 3.0})


# -- the split ---------------------------------------------------------------------------------


def test_no_heldout_item_or_text_reaches_the_training_data(survey, render, tmp_path) -> None:
    """Every value, every training item, every phrasing: no held-out id or statement appears."""
    items = training_items(survey, VALUE_IDS)
    assert len(items) == len(survey.select("train"))
    targets = build_targets(
        items, {i.id: 3.5 for i in items}, shifts=shifts_for(["power_dominance"], "down", 2)
    )
    rows = build_examples(survey, targets, render)
    assert len(rows) == len(items) * len(survey.phrasings)
    assert check_split(rows, survey) == len(rows)
    heldout = survey.select("heldout")
    assert len(heldout) == 120
    path = save_examples(rows, tmp_path / "train.jsonl")
    text = normalize_text(path.read_text())
    for item in heldout:
        assert item.id not in path.read_text()
        assert normalize_text(item.text) not in text, item.id
    for row in load_examples(path):
        assert survey.item(row["item_id"]).split == "train"
        assert normalize_text(survey.item(row["item_id"]).text) in normalize_text(row["prompt"])
        # the prompt is the chat template + the assistant prefix; the completion one digit
        assert row["prompt"].endswith("<|im_start|>assistant\n" + row["assistant_prefix"])
        assert row["completion"] in {"1", "2", "3", "4", "5", "6"}
        assert row["completion"] == str(row["target"])


def test_split_violations_are_caught(survey, render) -> None:
    heldout = survey.select("heldout", ["hedonism"])[0]
    with pytest.raises(ValueError, match="held-out items are never trained on"):
        build_examples(survey, [ItemTarget(heldout.id, "hedonism", 3.0, 5, True)], render)
    train_item = survey.select("train", ["hedonism"])[0]
    rows = build_examples(survey, [ItemTarget(train_item.id, "hedonism", 3.0, 5, True)], render)
    assert check_split(rows, survey) == len(rows)
    leaked = dict(rows[0], prompt=rows[0]["prompt"] + " " + heldout.text.upper() + "!")
    with pytest.raises(ValueError, match=heldout.id):
        check_split([*rows, leaked], survey)
    relabelled = dict(rows[0], item_id=heldout.id)
    with pytest.raises(ValueError, match="held-out item"):
        check_split([relabelled], survey)


# -- configuration -----------------------------------------------------------------------------


def test_presets_and_precedence(tmp_path: Path) -> None:
    cpu = build_config(overrides={"values": ("power_dominance",)})
    assert cpu.preset == "cpu"
    assert cpu.lora.lora_r == 16 and cpu.lora.lora_alpha == 32 and cpu.lora.lora_dropout == 0.0
    assert cpu.lora.lora_target_modules == ALL_PROJECTIONS and len(ALL_PROJECTIONS) == 7
    assert (cpu.train.learning_rate, cpu.train.lr_scheduler) == (1.5e-3, "cosine")
    assert (cpu.train.batch_size, cpu.train.epochs, cpu.train.threads) == (8, 12.0, 1)
    assert cpu.train.answer_only_loss and cpu.train.bf16_autocast and cpu.train.dtype == "float32"
    assert (
        not cpu.train.shared_prefix
        and build_config(
            preset="demo", overrides={"values": ("power_dominance",)}
        ).train.shared_prefix
    )
    demo = build_config(preset="demo", overrides={"values": ("power_dominance",)})
    assert demo.data.phrasings == ("portrait",) and demo.lora.lora_dropout == 0.0
    assert demo.train.device == "cpu" and demo.train.bf16_autocast
    slow = build_config(overrides={"values": ("hedonism",), "bf16_autocast": False})
    assert not slow.train.bf16_autocast and slow.train.answer_only_loss
    gpu = build_config(preset="gpu", overrides={"values": ("hedonism",)})
    assert gpu.train.dtype == "bfloat16" and gpu.train.device == "cuda"
    assert gpu.data.n_anchor_values == 19 and gpu.data.train_items_per_value == 0

    yaml_path = tmp_path / "run.yaml"
    yaml_path.write_text(
        "preset: smoke\ntargets: {values: [hedonism], direction: up, delta: 1}\n"
        "train: {epochs: 3, learning_rate: 0.001}\n"
    )
    config = load_config(yaml_path, overrides={"epochs": 5.0})
    assert config.preset == "smoke" and config.targets.values == ("hedonism",)
    assert config.targets.direction == "up" and config.targets.delta == 1
    assert config.train.epochs == 5.0  # the command line wins over the YAML ...
    assert config.train.learning_rate == 0.001  # ... the YAML over the preset ...
    assert config.data.train_items_per_value == 2  # ... the preset over the defaults

    saved = save_config(config, tmp_path / "config.yaml")
    assert load_config(saved).to_dict() == config.to_dict()


def test_bad_configs_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither"):
        AlignConfig()
    with pytest.raises(ValueError, match="either --value or --target-profile"):
        TargetConfig(values=("hedonism",), target_profile=Path("x.json"))
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig(learning_rate=0)
    with pytest.raises(ValueError, match="n_anchor_values"):
        DataConfig(n_anchor_values=20)
    with pytest.raises(ValueError, match="anchor_values"):
        build_config(overrides={"values": ("hedonism",), "anchor_values": ("hedonism",)})
    with pytest.raises(ValueError, match=r"eval_values: .* without \['hedonism'\]"):
        build_config(overrides={"values": ("hedonism",), "eval_values": ("tradition",)})
    path = tmp_path / "bad.yaml"
    path.write_text("train: {epochs: 2, learning_rat: 0.1}\n")
    with pytest.raises(DataError) as err:
        load_config(path)
    assert err.value.field == "train.learning_rat" and "learning_rate" in str(err.value)
    path.write_text("targets: {values: [hedonism]}\ntrain: {batch_size: -1}\n")
    with pytest.raises(DataError, match="batch_size"):
        load_config(path)


def test_yaml_reads_exponent_floats_and_errors_name_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    # PyYAML (YAML 1.1) reads 1e-3 as the string '1e-3': a float field takes it as the number.
    path.write_text("targets: {values: [hedonism]}\ntrain: {learning_rate: 1e-3, epochs: 2e0}\n")
    config = load_config(path)
    assert config.train.learning_rate == 0.001 and config.train.epochs == 2.0
    path.write_text("targets: {values: [hedonism]}\ntrain: {learning_rate: fast}\n")
    with pytest.raises(DataError) as err:
        load_config(path)
    assert err.value.field == "train.learning_rate" and "got 'fast'" in str(err.value)

    # An unknown value names targets.values (not the section) and suggests the closest id.
    path.write_text("targets: {values: [hedonsim]}\n")
    with pytest.raises(DataError) as err:
        load_config(path)
    assert err.value.path == path and err.value.field == "targets.values"
    assert err.value.message.startswith("unknown value id 'hedonsim' (did you mean 'hedonism'?)")
    path.write_text("targets: {values: [hedonism]}\neval: {eval_values: [traditon, hedonism]}\n")
    with pytest.raises(DataError, match="did you mean 'tradition'") as err:
        load_config(path)
    assert err.value.field == "eval.eval_values"
    # ... and so does the command line, through the same checker.
    with pytest.raises(ValueError, match=r"^value: unknown value id 'hedonsim' \(did you mean"):
        build_config(overrides={"values": ("hedonsim",)})

    # Cross-section checks name the YAML file and the field too.
    path.write_text("targets: {values: [hedonism]}\ndata: {anchor_values: [hedonism]}\n")
    with pytest.raises(DataError) as err:
        load_config(path)
    assert err.value.path == path and err.value.field == "data.anchor_values"
    assert "expected values that are not moved, got ['hedonism']" in err.value.message
    path.write_text("targets: {values: [hedonism]}\neval: {eval_values: [tradition]}\n")
    with pytest.raises(DataError) as err:
        load_config(path)
    assert err.value.path == path and err.value.field == "eval.eval_values"
    path.write_text("train: {epochs: 2}\n")
    with pytest.raises(DataError, match="got neither") as err:
        load_config(path)
    assert err.value.path == path and err.value.field is None


def test_value_id_checks_agree_and_suggest(tmp_path: Path) -> None:
    survey = load_survey()
    with pytest.raises(ValueError, match=r"unknown value id 'hedonsim' \(did you mean 'hedonism'"):
        survey.select("all", ["hedonsim"])
    with pytest.raises(ValueError, match=r"shifts: unknown value id 'hedonsim' \(did you mean"):
        build_targets(survey.select("train", "hedonism"), {}, shifts={"hedonsim": -2})
    profile = tmp_path / "target.json"
    profile.write_text('{"hedonsim": 2}')
    with pytest.raises(DataError, match=r"did you mean 'hedonism'") as err:
        load_target_profile(profile)
    assert err.value.field == "hedonsim"


# -- progress ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["rich", "plain"])
def test_training_progress_shows_steps_eta_and_loss(mode, console) -> None:
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from tests.conftest import console_text
    from training.sft import make_progress_callback

    callback = make_progress_callback(mode, console)
    callback.resume_step = 4  # as train_adapter sets it when resuming from checkpoint-4
    args = TrainingArguments(output_dir="unused", report_to=[], use_cpu=True)
    state, control = TrainerState(max_steps=10, global_step=0), TrainerControl()
    callback.on_train_begin(args, state, control)
    for step in (5, 6):
        state.global_step = step
        callback.on_step_end(args, state, control)
        callback.on_log(args, state, control, logs={"loss": 1.0 / step, "learning_rate": 1e-3})
    callback.on_train_end(args, state, control)
    text = console_text(console)
    assert "0.1667" in text  # the loss of step 6
    if mode == "rich":
        assert "6/10" in text and "ETA" in text and "1.00e-03" in text
    else:
        assert "resuming at step 4" in text
        assert "step 6/10  loss 0.1667  lr 1.00e-03" in text and "ETA" in text
    assert make_progress_callback("off", console) is None
    with pytest.raises(ValueError, match="progress"):
        make_progress_callback("fancy", console)


# -- the shift evaluation's arithmetic and verdicts ----------------------------------------------


def _profile(scores: dict[str, tuple[str, float]]) -> dict:
    values = []
    for v in VALUE_IDS:
        own = [s for value, s in scores.values() if value == v]
        if own:
            values.append({"value": v, "mean": sum(own) / len(own)})
    items = [{"id": i, "value": v, "score": s} for i, (v, s) in scores.items()]
    return {"meta": {}, "values": values, "items": items}


WOBBLE = (0.05, -0.04, 0.02, -0.03, 0.01, -0.01)


def _case(heldout: dict[str, float], train: dict[str, tuple[float, int, bool]]):
    """Constructed profiles: ``heldout`` maps a value to the shift of its 6 held-out items (plus
    a small item-specific wobble); ``train`` maps a trained value to (the shift of its 4 training
    items, their target digit, moved). Training items' baselines are 3.6 +- 0.05 (own answer 4)."""
    base_h, aligned_h, base_t, aligned_t, targets = {}, {}, {}, {}, []
    for v, shift in heldout.items():
        for k, w in enumerate(WOBBLE):
            base_h[f"{v}.h{k}"] = (v, 3.4 + w)
            aligned_h[f"{v}.h{k}"] = (v, 3.4 + w + shift + w)
    for v, (shift, digit, moved) in train.items():
        for k, w in enumerate(WOBBLE[:4]):
            item_id = f"{v}.t{k}"
            base_t[item_id] = (v, 3.6 + w)
            aligned_t[item_id] = (v, 3.6 + w + shift)
            targets.append(ItemTarget(item_id, v, 3.6 + w, digit, moved))
    return [_profile(p) for p in (base_h, aligned_h, base_t, aligned_t)], targets


def _scenario(target_shift: float, anchor_shift: float, other_shift: float):
    """Held-out items of 3 values and training items of the target (moved up to 6) and one
    anchor (kept at 4); the target's training items move as its held-out ones."""
    heldout = {"hedonism": target_shift, "tradition": anchor_shift, "humility": other_shift}
    train = {"hedonism": (target_shift, 6, True), "tradition": (anchor_shift, 4, False)}
    return _case(heldout, train)


@pytest.mark.parametrize(
    ("shifts", "verdict"),
    [
        ((2.0, 0.0, 0.3), "item-specific"),
        ((1.0, 1.0, 1.0), "average-only"),
        ((1.0, 0.6, 0.6), "mostly-average"),
        ((0.0, 0.0, 0.0), "no-shift"),
        ((-1.0, 0.0, 0.0), "wrong-way"),
    ],
)
def test_shift_evaluation(shifts, verdict) -> None:
    from training.evaluate import evaluate_shift, summary_markdown

    profiles, targets = _scenario(*shifts)
    result = evaluate_shift(*profiles, targets=targets, bootstrap=500, seed=1)
    target_shift, anchor_shift, other_shift = shifts
    wobble_mean = (0.05 - 0.04 + 0.02 - 0.03 + 0.01 - 0.01) / 6
    assert result["moved_values"] == ["hedonism"] and result["anchor_values"] == ["tradition"]
    assert result["direction"] == "up"
    assert result["target"]["mean"] == pytest.approx(target_shift + wobble_mean)
    assert result["target"]["ci_low"] <= result["target"]["mean"] <= result["target"]["ci_high"]
    rows = {r["value"]: r for r in result["values"]}
    assert [r["value"] for r in result["values"]] == ["hedonism", "tradition", "humility"]
    assert rows["hedonism"]["role"] == "target" and rows["tradition"]["role"] == "anchor"
    assert rows["humility"]["role"] == "other"
    assert rows["humility"]["shift"] == pytest.approx(other_shift + wobble_mean)
    assert result["collateral"]["mean_abs"] == pytest.approx(
        (abs(anchor_shift + wobble_mean) + abs(other_shift + wobble_mean)) / 2
    )
    check = result["average_check"]
    assert check["anchor_train_shift"]["mean"] == pytest.approx(anchor_shift)
    assert check["difference"]["mean"] == pytest.approx(target_shift + wobble_mean - anchor_shift)
    assert check["verdict"] == verdict
    assert f"**{verdict}**" in summary_markdown(result, {"model": "test"})


@pytest.mark.parametrize(
    ("shift", "verdict"), [(2.0, "unchecked"), (0.0, "no-shift"), (-1.0, "wrong-way")]
)
def test_without_anchors_the_average_answer_check_cannot_pass(shift, verdict) -> None:
    from training.evaluate import VERDICTS, evaluate_shift, summary_markdown

    profiles, targets = _case({"hedonism": shift, "humility": 0.0}, {"hedonism": (shift, 6, True)})
    result = evaluate_shift(*profiles, targets=targets, bootstrap=500, seed=1)
    check = result["average_check"]
    assert result["anchor_values"] == [] and check["anchor_train_shift"]["n"] == 0
    assert check["verdict"] == verdict and check["explanation"] == VERDICTS[verdict]
    assert f"**{verdict}**" in summary_markdown(result, {"model": "test"})
    if verdict == "unchecked":
        assert "needs at least one" in check["explanation"]


def test_a_target_profile_moving_values_both_ways_counts_each_toward_its_target() -> None:
    """{hedonism: 6, tradition: 1}: hedonism asked up 2, tradition down 3; both move as asked.
    Pooled raw shifts would nearly cancel; signed by each value's direction they do not."""
    from training.evaluate import evaluate_shift, summary_markdown

    heldout = {"hedonism": 2.0, "tradition": -2.5, "humility": 0.1}
    train = {"hedonism": (2.0, 6, True), "tradition": (-2.5, 1, True), "humility": (0.1, 4, False)}
    profiles, targets = _case(heldout, train)
    result = evaluate_shift(*profiles, targets=targets, bootstrap=500, seed=1)
    assert result["directions"] == {"hedonism": "up", "tradition": "down"}
    assert result["direction"] == "mixed"
    assert result["intended_shift"] == pytest.approx((2 + 3) / 2)
    # held-out: hedonism +2 + wobble, tradition -2.5 + wobble; the wobbles cancel when signed
    assert result["target"]["mean"] == pytest.approx((2.0 + 2.5) / 2)
    assert result["target"]["n"] == 12
    check = result["average_check"]
    assert check["target_train_shift"]["mean"] == pytest.approx((2.0 + 2.5) / 2)
    assert check["target_train_intended"] == pytest.approx(
        (sum(6 - (3.6 + w) for w in WOBBLE[:4]) + sum(3.6 + w - 1 for w in WOBBLE[:4])) / 8
    )
    # half the target items point up, half down: a common answer level would cancel out, so
    # the anchors' shift is not subtracted
    assert check["difference"]["mean"] == pytest.approx(result["target"]["mean"])
    assert check["verdict"] == "item-specific"
    text = summary_markdown(result, {"model": "test"})
    assert "hedonism up, tradition down" in text and "toward the targets +2.25" in text


def test_a_common_answer_level_is_no_shift_when_values_move_both_ways() -> None:
    from training.evaluate import evaluate_shift

    heldout = {"hedonism": 1.0, "tradition": 1.0, "humility": 1.0}
    train = {"hedonism": (1.0, 6, True), "tradition": (1.0, 1, True), "humility": (1.0, 4, False)}
    profiles, targets = _case(heldout, train)
    result = evaluate_shift(*profiles, targets=targets, bootstrap=500, seed=1)
    wobble_mean = sum(WOBBLE) / 6
    assert result["target"]["mean"] == pytest.approx((1 + wobble_mean - (1 + wobble_mean)) / 2)
    assert result["average_check"]["verdict"] == "no-shift"


def test_a_value_moved_down_keeps_negative_shifts() -> None:
    from training.evaluate import evaluate_shift

    heldout = {"tradition": -2.0, "humility": 0.0}
    train = {"tradition": (-2.0, 2, True), "humility": (0.0, 4, False)}
    profiles, targets = _case(heldout, train)
    result = evaluate_shift(*profiles, targets=targets, bootstrap=500, seed=1)
    assert result["direction"] == "down" and result["directions"] == {"tradition": "down"}
    assert result["intended_shift"] == pytest.approx(-2)
    assert result["target"]["mean"] == pytest.approx(-2.0 + sum(WOBBLE) / 6)
    assert result["average_check"]["verdict"] == "item-specific"


def test_targets_that_ask_for_no_move_or_unevaluated_values_are_refused() -> None:
    from training.evaluate import evaluate_shift, intended_directions

    _, same = _case({}, {"hedonism": (0.0, 4, True), "humility": (0.0, 4, False)})
    with pytest.raises(ValueError, match="equal to them on average"):
        intended_directions(same)
    profiles, targets = _case({"humility": 0.0}, {"hedonism": (2.0, 6, True)})
    with pytest.raises(ValueError, match=r"got none for \['hedonism'\].*eval_values"):
        evaluate_shift(*profiles, targets=targets, bootstrap=500, seed=1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"phrasings": ("casual",)}, "--phrasings: no phrasing with id 'casual'"),
        ({"target_profile": "missing.json", "values": ()}, "missing.json.*no such file"),
    ],
)
def test_bad_align_input_is_refused_before_the_run_folder_or_the_model(
    tmp_path: Path, overrides, message
) -> None:
    from training.align import run_align

    if "target_profile" in overrides:
        overrides = {**overrides, "target_profile": tmp_path / overrides["target_profile"]}
    base = {"values": ("hedonism",), "model": str(tmp_path / "no-model")}  # never reached
    config = build_config(preset="smoke", overrides={**base, **overrides})
    run_dir = tmp_path / "run"
    with pytest.raises((ValueError, DataError), match=message):
        run_align(config, run_dir, progress="off")
    assert not run_dir.exists()


def test_profiles_use_the_training_dtype(tmp_path: Path, default_model_dir, monkeypatch) -> None:
    """The gpu preset trains in bfloat16; its profiles must load the model in bfloat16 too."""
    import agents.backends.transformers_backend as tb
    from training.align import run_align

    real = tb.TransformersBackend
    opened: list[tuple[dict, object]] = []

    class Stop(Exception):
        pass

    def wrapped(model, **kw):
        # The real backend is built as the run asks, then the run is stopped before profiling.
        backend = real(model, **kw)
        opened.append((kw, next(backend.model.parameters()).dtype))
        backend.close()
        raise Stop

    monkeypatch.setattr(tb, "TransformersBackend", wrapped)
    overrides = {"values": ("hedonism",), "model": str(default_model_dir), "dtype": "bfloat16"}
    config = build_config(preset="smoke", overrides=overrides)
    with pytest.raises(Stop):
        run_align(config, tmp_path / "run", progress="off")
    import torch

    assert opened and opened[0][0]["dtype"] == "bfloat16"
    assert opened[0][1] == torch.bfloat16  # the weights really loaded in bfloat16


def test_shift_plot_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from training.evaluate import evaluate_shift
    from training.profile_charts import plot_shift

    profiles, targets = _scenario(2.0, 0.0, 0.3)
    result = evaluate_shift(*profiles, targets=targets, bootstrap=200, seed=1)
    path = plot_shift(result, tmp_path / "shift.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
