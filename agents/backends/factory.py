"""Building the backend a :class:`~agents.backends.base.BackendConfig` selects.

The factory sits above the implementations: :mod:`agents.backends.base` (the interface) imports
none of them, each implementation imports the interface, and this module imports an implementation
only when it builds one (torch, transformers and httpx stay unloaded until then).
"""

from __future__ import annotations

from agents.backends.base import BackendConfig, ModelBackend


def make_backend(config: BackendConfig) -> ModelBackend:
    """Build the backend that ``config`` selects (heavy imports happen here, not at import time)."""
    if config.backend == "transformers":
        from agents.backends.transformers_backend import TransformersBackend

        return TransformersBackend(config.model, adapter=config.adapter, dtype=config.dtype)
    from agents.backends.openai_backend import OpenAIBackend

    return OpenAIBackend(
        config.base_url,
        model=config.model,
        adapter=config.adapter,
        timeout=config.timeout,
        max_retries=config.max_retries,
        concurrency=config.concurrency,
        api_key=config.api_key,
    )
