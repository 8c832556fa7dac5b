"""The bench's vLLM server: one real CPU server for the base model and an adapter, reached by URL
from local and Ray workers, stopped at the end; a server that dies mid-bench stops the bench with
a clear error; configs it cannot serve are refused before anything starts."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request

import pytest

from agents.bench.config import BenchConfig, BenchConfigError
from agents.bench.executor import FatalBenchError, LocalExecutor
from agents.bench.server import needs_server, serve_bench, server_plan
from agents.bench.units import UnitSpec, plan_units
from s2b.cli import main
from tests.conftest import GAMES_DIR, console_text

DILEMMA = {"name": "dilemma", "id": "dilemma", "kwargs": {"split": "test"}, "max_steps": 2}


def _config(agents: list[dict], **kw) -> BenchConfig:
    return BenchConfig(agents=agents, envs=[DILEMMA], games_dir=str(GAMES_DIR), **kw)


def test_without_backend_vllm_nothing_starts():
    config = _config([{"name": "random", "kind": "random"}])
    assert not needs_server(config)
    with serve_bench(config) as served:
        assert served is config and served.server_url is None


def test_configs_one_server_cannot_serve_are_refused(lora_adapter):
    two_models = _config([
        {"name": "a", "kind": "llm", "backend": "vllm"},
        {"name": "b", "kind": "llm", "backend": "vllm", "model": "/models/other"},
    ])  # fmt: skip
    with pytest.raises(BenchConfigError, match=r"agents\[1\]\.model: .*one base model"):
        server_plan(two_models)
    cluster = _config(
        [{"name": "a", "kind": "llm", "backend": "vllm"}], ray_address="10.0.0.1:6379"
    )
    with pytest.raises(BenchConfigError, match=r"ray_address: .*loopback"):
        server_plan(cluster)
    # The default model and one adapter (an align run folder's adapter/ resolves the same way).
    model, adapters = server_plan(_config([
        {"name": "base", "kind": "llm", "backend": "vllm"},
        {"name": "tuned", "kind": "llm", "backend": "vllm", "adapter": str(lora_adapter)},
        {"name": "local", "kind": "llm", "adapter": str(lora_adapter)},  # in process: not served
    ]))  # fmt: skip
    assert model == "default" and adapters == {str(lora_adapter): lora_adapter}


def _is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url[: -len("/v1")] + "/health", timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.mark.vllm
@pytest.mark.slow
def test_one_server_serves_base_and_adapter_to_local_and_ray_workers(lora_adapter, tmp_path):
    from agents.backends.openai_backend import OpenAIBackend
    from agents.backends.vllm_server import vllm_python
    from agents.bench.ray_executor import RayExecutor

    if vllm_python() is None:
        pytest.skip("the vLLM venv .venv-vllm is absent (scripts/setup.sh section 4 builds it)")
    options = {"history": 1}
    config = _config(
        [
            {"name": "base", "kind": "llm", "backend": "vllm", "options": options},
            {"name": "tuned", "kind": "llm", "backend": "vllm", "adapter": str(lora_adapter),
             "options": options},
        ],
        seeds=[0, 1], workers=2,
    )  # fmt: skip
    units = plan_units(config)
    records: list[dict] = []
    # The fatal error comes out through serve_bench, which adds the server's state to it.
    with (
        pytest.raises(FatalBenchError) as caught,
        serve_bench(config, log_path=tmp_path / "server.log") as served,
    ):
        url = served.server_url
        assert url.startswith("http://127.0.0.1:") and _is_up(url)
        # One process serves the base model (first) and the adapter, named by its config path.
        names = OpenAIBackend(url, timeout=30).list_models()
        assert names[1:] == [str(lora_adapter)] and len(names) == 2
        LocalExecutor(workers=2).run(served, units[:3], records.append)
        RayExecutor(workers=1, num_cpus=1).run(served, units[3:], records.append)
        assert sorted(r["unit_id"] for r in records) == sorted(u.unit_id for u in units)
        assert all(r["status"] == "ok" and r["result"]["steps"] >= 1 for r in records)

        # The server dies mid-bench: the next unit fails after the backend's bounded retries
        # and the bench stops with the server's status and what to do.
        os.killpg(_server_pid(url), signal.SIGKILL)
        LocalExecutor(workers=1).run(served, [UnitSpec("tuned", "dilemma", 5, 0)], records.append)
    message = str(caught.value)
    assert "unit tuned/dilemma/s5/e0" in message and "vLLM server died (exit status -9" in message
    assert "run the same command again to continue" in message
    assert len(records) == len(units)  # the failed unit is not recorded as done
    assert not _is_up(url)  # stopped at the end of the block


def _server_pid(url: str) -> int:
    """The pid of the vLLM process listening on ``url``'s port (found in /proc)."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                args = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "--port" in args and args[args.index("--port") + 1] == port and "--model" in args:
            return int(entry)
    raise AssertionError(f"no vLLM process on port {port}")


@pytest.mark.vllm
@pytest.mark.slow
def test_cli_bench_with_backend_vllm_runs_through_one_server(lora_adapter, console, tmp_path):
    from agents.backends.vllm_server import vllm_python

    if vllm_python() is None:
        pytest.skip("the vLLM venv .venv-vllm is absent (scripts/setup.sh section 4 builds it)")
    config = tmp_path / "bench.yaml"
    config.write_text(
        "name: served\n"
        "agents:\n"
        "  - {name: base, kind: llm, backend: vllm, options: {history: 1}}\n"
        f"  - {{name: tuned, kind: llm, backend: vllm, adapter: '{lora_adapter}'}}\n"
        "envs:\n  - {name: dilemma, id: dilemma, kwargs: {split: test}, max_steps: 2}\n"
        "seeds: [0]\nworkers: 2\n"
    )
    run = tmp_path / "run"
    args = ["bench", str(config), "--out", str(run), "--games-dir", str(GAMES_DIR),
            "--progress", "off", "--no-report"]  # fmt: skip
    assert main(args, console=console) == 0, console_text(console)
    records = [json.loads(line) for line in (run / "units.jsonl").read_text().splitlines()]
    assert sorted(r["unit_id"] for r in records) == ["base/dilemma/s0/e0", "tuned/dilemma/s0/e0"]
    assert all(r["status"] == "ok" for r in records)
    assert (run / "server.log").stat().st_size > 0  # the server's log is in the run folder
    assert _serving(str(lora_adapter)) == []  # the server is gone when the bench ends


def _serving(adapter: str) -> list[int]:
    """Pids of processes whose command line serves ``adapter`` (a unique temp path)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    args = handle.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            if "--lora-modules" in args and any(a.endswith("=" + adapter) for a in args):
                pids.append(int(entry))
    return pids
