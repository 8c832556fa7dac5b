"""The in-process transformers backend on the real default model, and every bad-input error of
both backends (the HTTP ones against tiny loopback servers that fail on purpose)."""

from __future__ import annotations

import json
import math
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agents.backends import (
    AdapterError,
    BackendConfig,
    ModelNotFoundError,
    ServerError,
    ServerTimeoutError,
    TokenDistribution,
)
from tests.model_fixtures import make_lora_adapter
from training.survey_io import load_survey

pytest.importorskip("transformers", reason="needs s2b[llm]")

DIGITS = list("123456")


def survey_prompt(backend, index: int = 0, phrasing: int = 0) -> str:
    survey = load_survey()
    p = survey.phrasings[phrasing]
    return backend.chat_prompt(p.messages(survey.items[index]), assistant_prefix=p.assistant_prefix)


# -- the default model ---------------------------------------------------------------------------


@pytest.mark.slow
def test_conversion_on_a_cold_cache_matches_the_gguf_model(tmp_path, monkeypatch) -> None:
    """Convert the GGUF into an empty cache, then compare the converted folder's logits with the
    GGUF file loaded directly by transformers (the independent reference), not with the marker
    the conversion wrote about itself."""
    import torch
    import transformers

    from agents.models import default_gguf_path, default_model_dir, prepare_default_model

    monkeypatch.setenv("S2B_CACHE_DIR", str(tmp_path))
    assert not default_model_dir().exists()  # a cold cache: the conversion really runs
    folder = prepare_default_model()
    assert folder.is_relative_to(tmp_path)
    assert (folder / "model.safetensors").stat().st_size > 400e6  # float32, 135M parameters
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["architectures"] == ["LlamaForCausalLM"]

    gguf = default_gguf_path()
    reference = transformers.AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    ).eval()
    converted = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    text = "The ferry leaves at nine; a wallet lies on the bench with a name inside."
    ids = tokenizer(text, return_tensors="pt").input_ids
    with torch.no_grad():
        diff = (reference(ids).logits - converted.eval()(ids).logits).abs().max().item()
    assert diff == 0.0
    reference_tokenizer = transformers.AutoTokenizer.from_pretrained(
        gguf.parent, gguf_file=gguf.name
    )
    assert reference_tokenizer(text).input_ids == tokenizer(text).input_ids
    # A second call finds the folder and does not convert again.
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert prepare_default_model() == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_digits_are_single_tokens_and_distribution_is_consistent(tf_backend) -> None:
    prompt = survey_prompt(tf_backend)
    dist = tf_backend.next_token_distribution(prompt, DIGITS)
    assert len(set(dist.token_ids)) == 6
    assert math.isclose(sum(dist.probs), 1.0, abs_tol=1e-9)
    full = tf_backend.next_token_logprobs(prompt)
    raw = [math.exp(float(full[i])) for i in dist.token_ids]
    assert math.isclose(dist.mass, sum(raw), rel_tol=1e-6)
    for p, r in zip(dist.probs, raw, strict=True):
        assert math.isclose(p, r / sum(raw), rel_tol=1e-6)
    assert 1.0 <= dist.expected_value([1, 2, 3, 4, 5, 6]) <= 6.0


def test_assistant_prefix_moves_mass_onto_digits(tf_backend) -> None:
    """The issue's finding: a bare chat prompt puts little mass on digits, the prefix a lot."""
    survey = load_survey()
    phrasing = survey.phrasing("portrait")
    item = survey.items[5]
    bare = tf_backend.chat_prompt(phrasing.messages(item))
    prefixed = tf_backend.chat_prompt(phrasing.messages(item), assistant_prefix="Answer: ")
    assert prefixed == bare + "Answer: "
    assert tf_backend.next_token_distribution(bare, DIGITS).mass < 0.5
    assert tf_backend.next_token_distribution(prefixed, DIGITS).mass > 0.8


def test_multi_token_strings_are_refused(tf_backend) -> None:
    with pytest.raises(ValueError, match="exactly one token"):
        tf_backend.next_token_distribution("Hello", ["1", "not a single token"])
    with pytest.raises(ValueError, match="distinct"):
        tf_backend.next_token_distribution("Hello", ["1", "1"])


@pytest.mark.parametrize("chunk", [16, 3], ids=["one-chunk", "chunks-of-3"])
def test_shared_prefix_scoring_equals_separate_passes(tf_backend, chunk, monkeypatch) -> None:
    from agents.backends import transformers_backend

    # With chunks of 3 the prompt's KV cache is copied for each chunk: the scores stay the same.
    monkeypatch.setattr(transformers_backend, "CANDIDATE_CHUNK", chunk)
    prompt = survey_prompt(tf_backend, 3)
    candidates = [
        "6",
        "1",
        " I would rather not say.",
        "3 because it fits me a little",
        "Very much like me, honestly, in almost every way I can think of.",
        "No",
        "open the door",
        "go north",
        "take the lamp and light it",
        "(B)",
    ]
    shared = tf_backend.score_continuations(prompt, candidates)
    separate = tf_backend.score_continuations_separately(prompt, candidates)
    assert [s.text for s in shared] == candidates
    for a, b in zip(shared, separate, strict=True):
        assert a.token_ids == b.token_ids
        assert len(a.token_logprobs) == len(b.token_logprobs) == len(a.token_ids)
        for x, y in zip(a.token_logprobs, b.token_logprobs, strict=True):
            assert abs(x - y) < 1e-4
    # the one-token candidates agree with the next-token distribution
    dist = tf_backend.next_token_distribution(prompt, ["6", "1"])
    assert abs(shared[0].logprob - dist.logprobs[0]) < 1e-4
    assert abs(shared[1].logprob - dist.logprobs[1]) < 1e-4


def test_generation_greedy_is_deterministic(tf_backend) -> None:
    prompt = tf_backend.chat_prompt([{"role": "user", "content": "Name a colour."}])
    a = tf_backend.generate(prompt, max_new_tokens=12)
    b = tf_backend.generate(prompt, max_new_tokens=12)
    assert a == b and a.text.strip()
    assert len(a.token_ids) <= 12
    sampled = tf_backend.generate(prompt, max_new_tokens=8, temperature=1.0, seed=3)
    assert sampled == tf_backend.generate(prompt, max_new_tokens=8, temperature=1.0, seed=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens: expected >= 1, got 0"),
        ({"temperature": -0.5}, "temperature: expected >= 0, got -0.5"),
    ],
)
def test_generation_limits_are_checked(tf_backend, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        tf_backend.generate("Hello", **kwargs)


def test_lora_adapter_changes_the_distribution(tf_backend, tf_adapter_backend) -> None:
    prompt = survey_prompt(tf_backend, 7)
    base = tf_backend.next_token_distribution(prompt, DIGITS)
    adapted = tf_adapter_backend.next_token_distribution(prompt, DIGITS)
    assert max(abs(a - b) for a, b in zip(base.logprobs, adapted.logprobs, strict=True)) > 0.05
    assert "adapter" in tf_adapter_backend.model_name


def test_token_distribution_validates() -> None:
    with pytest.raises(ValueError, match="equally long"):
        TokenDistribution(("1", "2"), (1,), (0.0, 0.0))
    d = TokenDistribution(("a", "b"), (1, 2), (math.log(0.2), math.log(0.3)))
    assert math.isclose(d.mass, 0.5) and math.isclose(d.probs[0], 0.4)


def test_backend_config_validates() -> None:
    with pytest.raises(ValueError, match="backend"):
        BackendConfig(backend="llamacpp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url"):
        BackendConfig(base_url="localhost:8000")
    with pytest.raises(ValueError, match="timeout"):
        BackendConfig(timeout=0)


# -- bad models and adapters ---------------------------------------------------------------------


def test_unknown_model_path(tmp_path: Path) -> None:
    from agents.backends.transformers_backend import TransformersBackend

    with pytest.raises(ModelNotFoundError, match="no such model folder"):
        TransformersBackend(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match=r"config\.json"):
        TransformersBackend(tmp_path / "empty")


def test_hub_id_offline_says_how_to_bring_weights(monkeypatch, tmp_path: Path) -> None:
    from agents.models import resolve_model

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty local cache
    start = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="Bring the weights") as err:
        resolve_model("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert "--model DIR" in str(err.value)
    assert time.monotonic() - start < 10
    # a bare id (no org) that is not a folder here gets the same advice
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundError, match="no such model folder; if it is a Hugging Face"):
        resolve_model("gpt2")
    with pytest.raises(ModelNotFoundError, match=r"no such model folder$"):
        resolve_model("./gpt2")


def test_adapter_for_another_base_model(tmp_path: Path, default_model_dir: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from agents.backends.transformers_backend import TransformersBackend

    torch.manual_seed(0)
    other = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=49152,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    )
    other.save_pretrained(tmp_path / "other")
    adapter = make_lora_adapter(tmp_path / "other", tmp_path / "other-adapter")
    with pytest.raises(AdapterError, match="another base model"):
        TransformersBackend(default_model_dir, adapter=adapter)


def test_corrupt_adapter_file(tmp_path: Path, default_model_dir: Path, lora_adapter: Path) -> None:
    from agents.backends.transformers_backend import TransformersBackend

    broken = tmp_path / "broken"
    shutil.copytree(lora_adapter, broken)
    weights = broken / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(AdapterError, match="corrupt"):
        TransformersBackend(default_model_dir, adapter=broken)
    (broken / "adapter_config.json").write_text("{not json")
    with pytest.raises(AdapterError, match="not valid JSON"):
        TransformersBackend(default_model_dir, adapter=broken)
    with pytest.raises(AdapterError, match="no such adapter"):
        TransformersBackend(default_model_dir, adapter=tmp_path / "missing")


# -- bad servers ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_fails_fast() -> None:
    from agents.backends.openai_backend import OpenAIBackend

    port = _free_port()  # nothing listens there
    start = time.monotonic()
    with pytest.raises(ServerError, match="cannot reach the server") as err:
        OpenAIBackend(f"http://127.0.0.1:{port}/v1", timeout=2, max_retries=2, backoff=0.05)
    assert "after 3 attempt(s)" in str(err.value)
    assert time.monotonic() - start < 10


@pytest.fixture
def stalling_server() -> Iterator[str]:
    """A loopback socket that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    sock.close()


def test_stalling_server_times_out_within_bound(stalling_server: str) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    start = time.monotonic()
    with pytest.raises(ServerTimeoutError, match="no reply within 1 s"):
        OpenAIBackend(stalling_server, timeout=1, max_retries=1, backoff=0.05)
    elapsed = time.monotonic() - start
    assert 1.9 < elapsed < 6  # two attempts of 1 s each, plus backoff


class _Scripted(BaseHTTPRequestHandler):
    """Answers /v1/models properly and everything else with the class's scripted reply."""

    status = 200
    body = b"{}"

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(200, json.dumps({"data": [{"id": "m"}, {"id": "lora1"}]}).encode())

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).calls += 1
        self._send(self.status, self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted_server() -> Iterator[tuple[str, type[_Scripted]]]:
    handler = type("Handler", (_Scripted,), {"calls": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=2)


def test_malformed_replies_are_clear_errors(scripted_server) -> None:
    from agents.backends.openai_backend import MalformedReplyError, OpenAIBackend

    url, handler = scripted_server
    backend = OpenAIBackend(url, timeout=5, max_retries=0)
    assert backend.base_model == "m"
    handler.body = b"this is not json"
    with pytest.raises(MalformedReplyError, match="expected a JSON reply"):
        backend.tokenize("hello")
    handler.body = json.dumps({"tokens": "oops"}).encode()
    with pytest.raises(MalformedReplyError, match="list of token ids"):
        backend.tokenize("hello")
    handler.body = json.dumps({"tokens": [5], "choices": [{"logprobs": None}]}).encode()
    with pytest.raises(MalformedReplyError, match="top_logprobs"):
        backend.next_token_distribution("hello", ["1"])
    backend.close()


def test_refusals_and_server_errors(scripted_server) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    # An unknown adapter or model is tested on the real vLLM server (tests/agents/
    # test_vllm_server.py); only the retry of 5xx replies needs a server that fails on demand.
    url, handler = scripted_server
    backend = OpenAIBackend(url, adapter="lora1", timeout=5, max_retries=2, backoff=0.01)
    handler.status, handler.body = 400, json.dumps({"error": {"message": "too long"}}).encode()
    with pytest.raises(ServerError, match=r"refused the request \(400\): too long"):
        backend.tokenize("x")
    assert handler.calls == 1  # refusals are not retried
    handler.calls, handler.status = 0, 503
    with pytest.raises(ServerError, match="server error 503 after 3 attempt"):
        backend.tokenize("x")
    assert handler.calls == 3  # retried, bounded
    backend.close()


def test_http_generation_limits_are_checked_before_any_request(scripted_server) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    url, handler = scripted_server
    backend = OpenAIBackend(url, timeout=5, max_retries=0)
    handler.calls = 0
    with pytest.raises(ValueError, match="max_new_tokens: expected >= 1, got 0"):
        backend.chat([{"role": "user", "content": "hi"}], max_new_tokens=0)
    with pytest.raises(ValueError, match="temperature: expected >= 0, got -1"):
        backend.generate("hi", temperature=-1)
    assert handler.calls == 0
    backend.close()
