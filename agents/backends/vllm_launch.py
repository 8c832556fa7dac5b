"""Start vLLM's OpenAI-compatible server with its API key guarding every path.

Run by :class:`agents.backends.vllm_server.VLLMServer` with the vLLM venv's Python, as a script
(``python vllm_launch.py ARGS...``); it imports nothing from s2b. vLLM's own ``--api-key`` (or
``VLLM_API_KEY``) checks only paths under ``/v1``, ``/v2``, ``/inference`` and ``/cohere``: its
``/invocations`` runs the same completions without a key, and ``/tokenize`` renders chat templates.
When a key is set (``VLLM_API_KEY`` in the environment, never on the command line where other users
of the machine could read it), this widens the check to every path, ``/health`` included, and then
runs the server exactly as ``python -m vllm.entrypoints.openai.api_server ARGS...`` would.

If the check cannot be widened (a vLLM whose middleware moved), the server does not start: it would
otherwise serve the model to anyone who can reach it.
"""

from __future__ import annotations

import os
import runpy
import sys

SERVER_MODULE = "vllm.entrypoints.openai.api_server"


def _guard_every_path() -> None:
    from vllm.entrypoints.serve.middleware import authenticate

    if not isinstance(getattr(authenticate, "GUARDED_PREFIX", None), tuple):
        raise SystemExit(
            "s2b: this vLLM's API-key middleware has no GUARDED_PREFIX; refusing to start a "
            "server whose key would leave paths open"
        )
    authenticate.GUARDED_PREFIX = ("/",)


def main() -> None:
    if os.environ.get("VLLM_API_KEY"):
        _guard_every_path()
    sys.argv = [SERVER_MODULE, *sys.argv[1:]]
    runpy.run_module(SERVER_MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
