#!/usr/bin/env bash
# modelpanel's one entry point for a fresh machine (Debian, Python 3.11, Node 20).
#
#   bash scripts/dev.sh lab    set everything up, then open notebooks/01_quickstart.ipynb in JupyterLab
#   bash scripts/dev.sh test   set everything up, then run every test layer (what CI runs)
#   bash scripts/dev.sh setup  only set up (.venv with the package installed editable, bundle built)
#
# Everything lands in ./.venv and js/node_modules; nothing outside the checkout changes except
# Debian's chromium, installed with apt for the browser tests when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=$VENV/bin/python
TORCH_CPU_VERSION=2.13.0

log() { printf '\033[1m[modelpanel] %s\033[0m\n' "$*"; }

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "modelpanel: '$1' is required but not found. $2" >&2; exit 1; }
}

setup_python() {
  need python3 "Install Python 3.10 or newer (Debian: apt-get install python3 python3-venv)."
  if [ ! -x "$PY" ]; then
    log "creating .venv"
    python3 -m venv "$VENV"
  fi
  # A plain 'torch' requirement with no torch installed pulls a multi-GB CUDA build: take the
  # CPU build first, so the package's 'torch>=2.1' is already satisfied.
  if ! "$PY" -c "import torch" >/dev/null 2>&1; then
    log "installing CPU torch $TORCH_CPU_VERSION"
    "$PY" -m pip install -q "torch==$TORCH_CPU_VERSION"
  fi
}

setup_js() {
  need node "Install Node.js 20 (Debian: apt-get install nodejs npm)."
  need npm "Install npm (Debian: apt-get install npm)."
  # npm ci from the committed lock file: the same packages on every machine.
  if [ ! -d js/node_modules ] || [ js/package-lock.json -nt js/node_modules/.package-lock.json ]; then
    log "npm ci (js/)"
    (cd js && npm ci --no-audit --no-fund --loglevel=error)
  fi
  log "building the widget bundle"
  (cd js && npm run --silent build)
}

setup_package() {
  local extra=$1
  log "installing modelpanel (editable${extra:+, $extra})"
  # The bundle was just built by setup_js; skip the build hook's second npm run.
  HATCH_JUPYTER_BUILDER_SKIP_NPM=1 "$PY" -m pip install -q -e ".${extra:+[$extra]}"
}

setup_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium for the browser tests"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}

cmd=${1:-}
case "$cmd" in
  setup)
    setup_python; setup_js; setup_package "dev"
    ;;
  lab)
    setup_python; setup_js; setup_package "dev"
    log "opening notebooks/01_quickstart.ipynb"
    exec "$PY" -m jupyter lab notebooks/01_quickstart.ipynb "${@:2}"
    ;;
  test)
    setup_python; setup_js; setup_package "dev"; setup_browser
    log "ruff"
    "$VENV/bin/ruff" check src tests benchmarks
    log "tsc --noEmit"
    (cd js && npm run --silent typecheck)
    log "vitest"
    (cd js && npm test --silent)
    log "pytest (unit, notebooks, browser)"
    "$PY" -m pytest "${@:2}"
    ;;
  *)
    echo "usage: bash scripts/dev.sh {lab|test|setup} [extra args]" >&2
    exit 2
    ;;
esac
