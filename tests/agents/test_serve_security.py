"""``s2b serve`` security: issue 22, items 8 (no log through a planted link) and 9 (API key);
and how the server's command line picks a compiled or an eager start.

Item 9 runs the real vLLM CPU server from ``.venv-vllm`` on loopback with a key.
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from agents.backends.base import BackendError, ServerError
from agents.backends.vllm_server import VLLMServer, free_port, is_loopback
from s2b.cli import main

KEY = "s2b-test-key-0123456789"


# --- item 8: the log ------------------------------------------------------------------------------


def test_default_log_never_follows_a_link_planted_in_the_temp_folder(tmp_path, monkeypatch):
    """The old log name was predictable (``$TMPDIR/s2b-vllm-PORT.log``): a link planted there
    truncated its target. Now the log goes to a fresh private folder."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious data\n")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    port = free_port()
    (tmp_path / f"s2b-vllm-{port}.log").symlink_to(victim)
    # A real Python without vLLM: the server process starts, writes its error and exits.
    server = VLLMServer(tmp_path, port=port, python=sys.executable)
    with pytest.raises(BackendError, match="exited with status"):
        server.start(wait=60)
    assert victim.read_text() == "precious data\n"
    log = server.log_path
    assert log is not None and log.parent.parent == tmp_path and not log.is_symlink()
    assert log.parent.stat().st_mode & 0o777 == 0o700 and log.stat().st_mode & 0o777 == 0o600
    assert "No module named" in log.read_text()


def test_given_log_path_that_is_a_link_is_refused(tmp_path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious data\n")
    link = tmp_path / "server.log"
    link.symlink_to(victim)
    server = VLLMServer(tmp_path, log_path=link, python=sys.executable)
    with pytest.raises(BackendError, match="is a link"):
        server.start(wait=30)
    assert victim.read_text() == "precious data\n" and server.process is None


# --- item 9: the API key --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def _serve(argv: list[str]) -> tuple[int, str]:
    console = Console(file=StringIO(), width=300)
    code = main(["serve", *argv], console=console)
    return code, console.file.getvalue()  # type: ignore[attr-defined]


def test_serve_refuses_a_network_host_without_a_key(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("S2B_API_KEY", raising=False)
    code, out = _serve(["--host", "0.0.0.0", "--model", str(tmp_path)])
    assert code == 2, out
    assert "needs an API key" in out and "--insecure" in out and "S2B_API_KEY" in out
    with pytest.raises(BackendError, match="needs an API key"):
        VLLMServer(tmp_path, host="0.0.0.0", python=sys.executable)
    with pytest.raises(BackendError, match="non-empty key"):
        VLLMServer(tmp_path, host="0.0.0.0", python=sys.executable, api_key=" ")
    # a key, or --insecure, lets it through (the servers are built, not started)
    VLLMServer(tmp_path, host="0.0.0.0", python=sys.executable, api_key=KEY)
    VLLMServer(tmp_path, host="0.0.0.0", python=sys.executable, insecure=True)


@pytest.fixture(scope="module")
def keyed_server(default_model_dir: Path, tmp_path_factory):
    from agents.backends.vllm_server import vllm_python

    if vllm_python() is None:
        pytest.skip("the vLLM venv .venv-vllm is absent (scripts/setup.sh section 4 builds it)")
    server = VLLMServer(
        default_model_dir,
        host="127.0.0.1",
        api_key=KEY,
        log_path=tmp_path_factory.mktemp("vllm-key") / "server.log",
    )
    try:
        server.start(wait=900)
        yield server
    finally:
        server.stop()


def _post(url: str, body: dict, key: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.vllm
@pytest.mark.slow
def test_api_key_is_required_by_a_real_vllm_server(keyed_server, monkeypatch) -> None:
    from agents.backends.openai_backend import OpenAIBackend

    assert KEY not in " ".join(keyed_server.command())  # not in the process list
    monkeypatch.delenv("S2B_API_KEY", raising=False)
    with pytest.raises(ServerError, match=r"wants an API key \(401\).*--api-key"):
        OpenAIBackend(keyed_server.base_url, timeout=60, max_retries=0)
    with pytest.raises(ServerError, match="401"):
        OpenAIBackend(keyed_server.base_url, timeout=60, max_retries=0, api_key="wrong")
    backend = OpenAIBackend(keyed_server.base_url, timeout=120, api_key=KEY)
    try:
        assert backend.list_models() == [keyed_server.served_name]
        assert backend.generate("The capital of France is", max_new_tokens=3).text
    finally:
        backend.close()
    monkeypatch.setenv("S2B_API_KEY", KEY)  # the setting is read when no key is passed
    backend = OpenAIBackend(keyed_server.base_url, timeout=120)
    try:
        assert backend.tokenize("hello world")
    finally:
        backend.close()


@pytest.mark.vllm
@pytest.mark.slow
def test_the_key_guards_paths_vllm_leaves_open(keyed_server) -> None:
    """vLLM's own key check covers /v1 only; /invocations runs completions without it."""
    root = keyed_server.base_url.removesuffix("/v1")
    body = {"model": keyed_server.served_name, "prompt": "Hello", "max_tokens": 2}
    assert _post(f"{root}/invocations", body) == 401
    assert _post(f"{root}/tokenize", {"prompt": "Hello"}) == 401
    assert _post(f"{root}/invocations", body, key=KEY) == 200
    assert _post(f"{root}/v1/completions", body) == 401


# --- start-up: compiled or eager ------------------------------------------------------------------


def test_eager_start_is_chosen_by_argument_or_setting(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("S2B_VLLM_EAGER", raising=False)
    assert "--enforce-eager" not in VLLMServer(tmp_path, python=sys.executable).command()
    assert "--enforce-eager" in VLLMServer(tmp_path, python=sys.executable, eager=True).command()
    monkeypatch.setenv("S2B_VLLM_EAGER", "1")
    assert "--enforce-eager" in VLLMServer(tmp_path, python=sys.executable).command()
    server = VLLMServer(tmp_path, python=sys.executable, eager=False)  # the argument wins
    assert "--enforce-eager" not in server.command()
    monkeypatch.setenv("S2B_VLLM_EAGER", "sometimes")
    with pytest.raises(BackendError, match="S2B_VLLM_EAGER='sometimes': expected 1"):
        VLLMServer(tmp_path, python=sys.executable)
