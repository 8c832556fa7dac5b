"""The HTTP backend against a real vLLM CPU server started on loopback by the test session:
both backends give the same numbers for the default model and for a LoRA adapter."""

from __future__ import annotations

import pytest

from agents.backends.base import AdapterError, ServerError
from training.survey_io import load_survey

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

DIGITS = list("123456")
TOL = 2e-3  # vLLM's CPU kernels vs transformers' in float32: seen here <= 1e-5 in log-prob


@pytest.fixture(scope="module")
def http_base(vllm_server):
    from agents.backends.openai_backend import OpenAIBackend

    backend = OpenAIBackend(vllm_server.base_url, timeout=60, concurrency=4)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def http_adapter(vllm_server):
    from agents.backends.openai_backend import OpenAIBackend

    backend = OpenAIBackend(vllm_server.base_url, adapter="rand", timeout=60, concurrency=4)
    yield backend
    backend.close()


def _survey_prompts(backend, n: int = 4) -> list[str]:
    survey = load_survey()
    prompts = []
    for k in range(n):
        phrasing = survey.phrasings[k % len(survey.phrasings)]
        item = survey.items[k * 37 % len(survey.items)]
        prompts.append(
            backend.chat_prompt(phrasing.messages(item), assistant_prefix=phrasing.assistant_prefix)
        )
    return prompts


def test_server_lists_base_model_and_adapter(vllm_server, http_base) -> None:
    assert vllm_server.base_url.startswith("http://127.0.0.1:")
    assert http_base.list_models() == [vllm_server.served_name, "rand"]


def test_chat_template_and_tokens_match(http_base, tf_backend) -> None:
    messages = load_survey().phrasings[0].messages(load_survey().items[0])
    assert http_base.chat_prompt(messages, assistant_prefix="Answer: ") == tf_backend.chat_prompt(
        messages, assistant_prefix="Answer: "
    )
    text = "It is important to this person to be free. 1 2 3"
    assert http_base.tokenize(text) == tf_backend.tokenize(text)


@pytest.mark.parametrize("which", ["base", "adapter"])
def test_digit_distributions_agree(which, http_base, http_adapter, tf_backend, tf_adapter_backend):
    http, local = (http_base, tf_backend) if which == "base" else (http_adapter, tf_adapter_backend)
    prompts = _survey_prompts(local)
    remote = http.next_token_distributions(prompts, DIGITS)
    for prompt, r in zip(prompts, remote, strict=True):
        lo = local.next_token_distribution(prompt, DIGITS)
        assert r.token_ids == lo.token_ids
        assert max(abs(a - b) for a, b in zip(r.probs, lo.probs, strict=True)) < TOL
        assert abs(r.mass - lo.mass) < TOL
        assert max(abs(a - b) for a, b in zip(r.logprobs, lo.logprobs, strict=True)) < 10 * TOL


def test_adapter_is_really_applied_by_the_server(http_base, http_adapter) -> None:
    prompt = _survey_prompts(http_base, 1)[0]
    base = http_base.next_token_distribution(prompt, DIGITS)
    adapted = http_adapter.next_token_distribution(prompt, DIGITS)
    assert max(abs(a - b) for a, b in zip(base.logprobs, adapted.logprobs, strict=True)) > 0.05


def test_tokens_outside_the_top_20_use_prompt_logprobs(http_base, tf_backend) -> None:
    """Rare tokens are not in the top-20 reply; the prompt_logprobs path scores them exactly."""
    prompt = _survey_prompts(tf_backend, 1)[0]
    rare = ["1", "zebra", "Paris", "%"]
    rare = [t for t in rare if len(tf_backend.tokenize(t)) == 1]
    remote = http_base.next_token_distribution(prompt, rare)
    local = tf_backend.next_token_distribution(prompt, rare)
    assert min(local.logprobs) < -10  # really far outside the top 20
    for a, b in zip(remote.logprobs, local.logprobs, strict=True):
        assert abs(a - b) < 10 * TOL


def test_continuation_scores_agree(http_adapter, tf_adapter_backend) -> None:
    prompt = _survey_prompts(tf_adapter_backend, 1)[0]
    candidates = ["6", "2 - not like me", "I cannot answer that.", "open the mailbox"]
    remote = http_adapter.score_continuations(prompt, candidates)
    local = tf_adapter_backend.score_continuations(prompt, candidates)
    for r, lo in zip(remote, local, strict=True):
        assert r.token_ids == lo.token_ids
        assert abs(r.logprob - lo.logprob) < 10 * TOL


def test_scoring_a_built_prompt_asks_only_for_new_candidates(vllm_server, tf_backend) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    backend = OpenAIBackend(vllm_server.base_url, timeout=60, concurrency=4)
    paths: list[str] = []
    post = backend._post

    def counting(path, payload, **kwargs):
        paths.append(path)
        return post(path, payload, **kwargs)

    backend._post = counting  # a spy: the real server answers every request
    messages = [{"role": "user", "content": "You are West of House. What do you do?"}]
    prompt = backend.chat_prompt(messages)
    assert paths == ["/tokenize", "/detokenize"]
    candidates = ["open the mailbox", "north", "go south", "take leaflet"]
    paths.clear()
    first = backend.score_continuations(prompt, candidates)
    assert sorted(paths) == ["/completions"] + ["/tokenize"] * 4  # the prompt is not re-tokenized
    paths.clear()
    again = backend.score_continuations(prompt, [*candidates[:2], "west"])
    assert sorted(paths) == ["/completions", "/tokenize"]  # only the new candidate
    assert again[:2] == first[:2]
    # the template's own ids score like the local backend's tokenization of the prompt text
    local = tf_backend.score_continuations(tf_backend.chat_prompt(messages), candidates)
    for r, lo in zip(first, local, strict=True):
        assert r.token_ids == lo.token_ids and abs(r.logprob - lo.logprob) < 10 * TOL
    backend.close()


def test_generation_and_chat(http_base, tf_backend) -> None:
    messages = [{"role": "user", "content": "Say hello in one word."}]
    reply = http_base.chat(messages, max_new_tokens=8)
    assert reply.text.strip()
    prompt = tf_backend.chat_prompt(messages)
    remote = http_base.generate(prompt, max_new_tokens=6)
    local = tf_backend.generate(prompt, max_new_tokens=6)
    assert remote.text.strip()
    # greedy decoding of the same float32 model: the first words agree
    assert remote.text.split()[:1] == local.text.split()[:1]


def test_server_refusal_is_clear(http_base) -> None:
    with pytest.raises(ServerError, match="refused the request"):
        http_base.generate("word " * 3000, max_new_tokens=4)  # longer than --max-model-len


def test_unknown_adapter_name(vllm_server) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    with pytest.raises(AdapterError, match="no adapter of that name"):
        OpenAIBackend(vllm_server.base_url, adapter="nope", timeout=10)


def test_model_not_served(vllm_server) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    with pytest.raises(ServerError, match="does not serve model"):
        OpenAIBackend(vllm_server.base_url, model="not-a-served-model", timeout=10)
    # The real server's own model and adapter names are accepted.
    backend = OpenAIBackend(vllm_server.base_url, model=vllm_server.served_name, timeout=10)
    assert backend.base_model == vllm_server.served_name
    backend.close()
