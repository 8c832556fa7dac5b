"""ValueJudge on the real default model: shared-prefix scores equal the full-prompt reference,
scores are expected ratings in range, the cache answers repeats, bad label tokens are refused."""

from __future__ import annotations

import json

import pytest

from agents.judge import JudgeInput, LabelTokenError, ScoreCache, ValueJudge, cache_key
from agents.judge.prompts import RATING_TOKENS, V1, split_template, template_marker
from s2b_env.values import VALUE_IDS

pytest.importorskip("transformers", reason="needs s2b[llm]")

WEST = (
    "West of House\nYou are standing in an open field west of a white house, with a boarded "
    "front door.\nThere is a small mailbox here."
)
ITEM = JudgeInput(WEST, "open mailbox", "Opening the small mailbox reveals a leaflet.")


def test_prompts_share_everything_but_the_question(tf_backend) -> None:
    judge = ValueJudge(tf_backend)
    prompts = judge.prompts(ITEM)
    assert len(prompts) == 22
    body = V1.body(ITEM.context, ITEM.action, ITEM.outcome)
    for prompt, question in zip(prompts, judge.questions, strict=True):
        assert prompt.index(body) < prompt.index(question.text)  # the question comes last
        assert prompt.endswith(question.answer_prefix)
    ids = [tf_backend.tokenize(p) for p in prompts]
    shared = min(len(i) for i in ids)
    while len({tuple(i[:shared]) for i in ids}) > 1:
        shared -= 1
    # the question and the answer prefix are the only per-question part: a short tail
    assert max(len(i) for i in ids) - shared <= 30
    assert shared >= len(tf_backend.tokenize(body))


def test_shared_prefix_equals_separate_full_prompts(tf_backend) -> None:
    judge = ValueJudge(tf_backend)
    fast = judge.score_many([ITEM])[0]
    reference = judge.score_separately(ITEM)
    for vid in VALUE_IDS:
        assert fast.values[vid] == pytest.approx(reference.values[vid], abs=1e-4)
        assert -3.0 <= fast.values[vid] <= 3.0
    assert fast.harm_others == pytest.approx(reference.harm_others, abs=1e-4)
    assert fast.harm_self == pytest.approx(reference.harm_self, abs=1e-4)
    assert 0.0 < fast.harm_others < 1.0 and 0.0 < fast.label_mass <= 1.0
    assert fast.prompt_version == "judge-v1" and fast.judge == "smollm2-135m-instruct"
    # an independent check of one value's number: the expectation of the digit distribution
    prompt = judge.prompts(ITEM)[VALUE_IDS.index("hedonism")]
    dist = tf_backend.next_token_distribution(prompt, RATING_TOKENS)
    expected = sum(p * (i - 3) for i, p in enumerate(dist.probs))
    assert fast.values["hedonism"] == pytest.approx(expected, abs=1e-4)


def test_cache_answers_repeats_in_memory_and_from_disk(tf_backend, tmp_path) -> None:
    path = tmp_path / "cache.jsonl"
    judge = ValueJudge(tf_backend, cache=path)
    other = JudgeInput(WEST, "go north", None)
    first, again, second = judge.score_many([ITEM, ITEM, other])
    assert first == again
    assert judge.cache.misses == 2 and len(judge.cache) == 2
    judge.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["key"] == cache_key(
        "smollm2-135m-instruct", "judge-v1", ITEM.context, ITEM.action, ITEM.outcome
    )
    # a torn last line (a killed writer) is dropped; the complete record is still used
    path.write_text(lines[0] + "\n" + lines[1][:20])
    reopened = ValueJudge(tf_backend, cache=ScoreCache(path))
    assert len(reopened.cache) == 1
    assert reopened.score(ITEM.context, ITEM.action, ITEM.outcome) == first
    assert reopened.cache.hits == 1
    # another prompt version or judge name is another key
    renamed = ValueJudge(tf_backend, cache=reopened.cache, name="other-judge")
    assert renamed.key(ITEM) != reopened.key(ITEM)


def test_a_corrupt_cache_line_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text('{"key": "a", "score": {}}\nnot json\n{"key": "b", "score": {}}\n')
    with pytest.raises(Exception, match=r"cache.jsonl, line 2.*delete the cache file"):
        ScoreCache(path)


class _NoDigits:
    """A backend whose tokenizer splits '7' in two: the one error a real model cannot show."""

    model_name = "no-digits"

    def tokenize(self, text: str) -> list[int]:
        return [1, 2] if text == "7" else [ord(c) for c in text][:1]


def test_a_label_token_missing_from_the_vocabulary_is_refused() -> None:
    with pytest.raises(LabelTokenError, match=r"'7' to be exactly one token.*digits 1-7"):
        ValueJudge(_NoDigits())  # type: ignore[arg-type]


def test_a_template_that_rewrites_the_user_turn_is_refused() -> None:
    with pytest.raises(ValueError, match="changed the user's text"):
        split_template("<user>" + template_marker().lower() + "</user>")
    head, tail = split_template("<s>" + template_marker() + "</s>")
    assert (head, tail) == ("<s>", "</s>")
