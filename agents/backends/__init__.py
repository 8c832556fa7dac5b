"""Model backends: one interface (:mod:`agents.backends.base`), two implementations, and the
factory that picks one (:mod:`agents.backends.factory`).

* :class:`agents.backends.transformers_backend.TransformersBackend`: in-process transformers model
  on the CPU, optional peft LoRA adapter.
* :class:`agents.backends.openai_backend.OpenAIBackend`: an OpenAI-compatible HTTP server such as
  vLLM's (see :mod:`agents.backends.vllm_server` and ``s2b serve``).

Heavy modules (torch, transformers, httpx) are imported only when a backend is built.
"""

from __future__ import annotations

from agents.backends.base import (
    BACKENDS,
    AdapterError,
    BackendConfig,
    BackendError,
    ContinuationScore,
    Generation,
    ModelBackend,
    ModelFolderError,
    ModelNotFoundError,
    ServerError,
    ServerTimeoutError,
    TokenDistribution,
)
from agents.backends.factory import make_backend

__all__ = [
    "BACKENDS",
    "AdapterError",
    "BackendConfig",
    "BackendError",
    "ContinuationScore",
    "Generation",
    "ModelBackend",
    "ModelFolderError",
    "ModelNotFoundError",
    "ServerError",
    "ServerTimeoutError",
    "TokenDistribution",
    "make_backend",
]
