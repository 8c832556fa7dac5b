"""The errors of models and backends, in one leaf module.

Everything that finds, loads or asks a model raises one of these; all are
:class:`~s2b_env.errors.S2BError`s (the CLI shows them as one line, exit 2). This module imports
nothing of s2b's but the base error, so :mod:`agents.models` (finding weights, below the
backends) and the backends (above it) both use it without importing each other.
"""

from __future__ import annotations

from s2b_env.errors import S2BError


class BackendError(S2BError):
    """A model backend could not do what was asked; the message says why and how to fix it."""


class ModelNotFoundError(BackendError, FileNotFoundError):
    """The model named by ``--model`` is neither a local model folder nor available offline."""


class ModelFolderError(BackendError, ValueError):
    """A model folder is broken: a corrupt ``config.json``, a cut or corrupt weights file, no
    tokenizer; the message names the file."""


class AdapterError(BackendError, ValueError):
    """A LoRA adapter is missing, corrupt, or made for another base model."""


class ServerError(BackendError, ConnectionError):
    """An OpenAI-compatible server was unreachable, refused a request, or answered badly."""


class ServerTimeoutError(ServerError, TimeoutError):
    """An OpenAI-compatible server did not answer within the timeout (after the retries)."""


__all__ = [
    "AdapterError",
    "BackendError",
    "ModelFolderError",
    "ModelNotFoundError",
    "ServerError",
    "ServerTimeoutError",
]
