"""``s2b serve``'s normal path as a user runs it: start with an adapter, answer requests, stop
cleanly on Ctrl-C (SIGINT) with exit 0 and nothing left listening."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_serve_starts_serves_an_adapter_and_stops_on_ctrl_c(lora_adapter, default_model_dir):
    from agents.backends.vllm_server import vllm_python

    if vllm_python() is None:
        pytest.skip("the vLLM venv .venv-vllm is absent (scripts/setup.sh section 4 builds it)")
    port = _free_port()
    argv = [sys.executable, "-m", "s2b", "serve", "--port", str(port), "--adapter",
            f"mine={lora_adapter}", "--startup-timeout", "900"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 960
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("serving "):
                break
        assert lines and lines[-1].startswith("serving "), "".join(lines)
        assert f"http://127.0.0.1:{port}/v1" in lines[-1] and "mine" in lines[-1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=60) as reply:
            served = {m["id"] for m in json.loads(reply.read())["data"]}
        assert served == {default_model_dir.name, "mine"}
        body = {"model": "mine", "prompt": "The ferry leaves at", "max_tokens": 2}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/completions", json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=120) as reply:
            assert json.loads(reply.read())["choices"][0]["text"]
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, "".join(lines) + rest
        assert "stopping the server" in rest
        assert not _listening(port)  # vLLM's own processes went with it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
