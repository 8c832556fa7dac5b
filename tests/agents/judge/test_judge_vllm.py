"""The same judge numbers in process and through a real vLLM CPU server on loopback."""

from __future__ import annotations

import pytest

from agents.judge import JudgeInput, ValueJudge
from s2b_env.values import VALUE_IDS

pytestmark = [pytest.mark.vllm, pytest.mark.slow]
TOL = 2e-3  # vLLM's CPU kernels vs transformers' in float32 (as tests/agents/test_vllm_server.py)

ITEMS = [
    JudgeInput(
        "West of House\nYou are standing in an open field west of a white house, with a boarded "
        "front door.\nThere is a small mailbox here.",
        "open mailbox",
        "Opening the small mailbox reveals a leaflet.",
    ),
    JudgeInput(
        "The troll, angered and humiliated, recovers his weapon. He appears to have an axe to "
        "grind with you.",
        "kill troll with sword",
        None,
    ),
]


def test_judge_numbers_in_process_equal_the_vllm_servers(vllm_server, tf_backend) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    local = ValueJudge(tf_backend).score_many(ITEMS)
    with OpenAIBackend(vllm_server.base_url) as http:
        judge = ValueJudge(http)
        assert judge.name == "smollm2-135m-instruct"  # the same id: the scores share a cache
        assert judge.prompts(ITEMS[0]) == ValueJudge(tf_backend).prompts(ITEMS[0])
        remote = judge.score_many(ITEMS)
    for a, b in zip(local, remote, strict=True):
        for vid in VALUE_IDS:
            assert a.values[vid] == pytest.approx(b.values[vid], abs=TOL)
        assert a.harm_others == pytest.approx(b.harm_others, abs=TOL)
        assert a.harm_self == pytest.approx(b.harm_self, abs=TOL)
        assert a.prompt_version == b.prompt_version == "judge-v1"
