#!/usr/bin/env bash
# modelpanel's one entry point for a fresh machine (Debian, Python 3.11, Node 20).
#
#   bash scripts/dev.sh lab    set everything up, then open notebooks/01_quickstart.ipynb in JupyterLab
#   bash scripts/dev.sh test   set everything up, then run every test layer (what CI runs)
#   bash scripts/dev.sh setup  only set up (.venv with the package installed editable, bundle built)
#
# Everything lands in ./.venv and js/node_modules; nothing outside the checkout changes except
# Debian's chromium, installed with apt for the browser tests when it is missing.
#
# lab and setup skip what is already up to date, so a second run starts in seconds: the bundle
# is rebuilt only when a file in js/src, js/package.json or js/package-lock.json is newer than
# it, and the editable install is redone only when .venv does not import modelpanel from this
# checkout or pyproject.toml changed since the last install (stamp: .venv/.modelpanel-installed).
# test always rebuilds and reinstalls: CI runs it on whatever the checkout holds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=$VENV/bin/python
STAMP=$VENV/.modelpanel-installed
BUNDLE=src/modelpanel/static/widget.js
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
  # find_spec locates torch without importing it (an import costs seconds on every lab start).
  if ! "$PY" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is None)" >/dev/null 2>&1; then
    log "installing CPU torch $TORCH_CPU_VERSION"
    "$PY" -m pip install -q "torch==$TORCH_CPU_VERSION"
  fi
}

# True when the bundle exists and no file it is built from is newer than it.
bundle_fresh() {
  [ -f "$BUNDLE" ] || return 1
  [ -z "$(find js/src js/package.json js/package-lock.json -newer "$BUNDLE" -print -quit)" ]
}

# $1 = "always": build even when the bundle looks fresh (test, CI).
setup_js() {
  need node "Install Node.js 20 (Debian: apt-get install nodejs npm)."
  need npm "Install npm (Debian: apt-get install npm)."
  # npm ci from the committed lock file: the same packages on every machine.
  if [ ! -d js/node_modules ] || [ js/package-lock.json -nt js/node_modules/.package-lock.json ]; then
    log "npm ci (js/)"
    (cd js && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ "${1:-}" != always ] && bundle_fresh; then
    log "widget bundle up to date ($BUNDLE)"
    return
  fi
  log "building the widget bundle"
  (cd js && npm run --silent build)
}

# True when .venv imports modelpanel from this checkout's src/ (found, not imported) and the
# stamp says the install with this extra was done after pyproject.toml last changed.
package_fresh() {
  local extra=$1 origin
  [ -f "$STAMP" ] && [ ! pyproject.toml -nt "$STAMP" ] || return 1
  [ "$(cat "$STAMP")" = "$ROOT [$extra]" ] || return 1
  origin=$("$PY" -c "import importlib.util as u; s = u.find_spec('modelpanel'); print(s.origin if s else '')" 2>/dev/null) || return 1
  [ "$origin" = "$ROOT/src/modelpanel/__init__.py" ]
}

# $1 = the extra ("dev"); $2 = "always": reinstall even when the install looks fresh.
setup_package() {
  local extra=$1
  if [ "${2:-}" != always ] && package_fresh "$extra"; then
    log "modelpanel already installed editable from this checkout"
    return
  fi
  log "installing modelpanel (editable${extra:+, $extra})"
  rm -f "$STAMP"
  # The bundle was just built by setup_js; skip the build hook's second npm run.
  HATCH_JUPYTER_BUILDER_SKIP_NPM=1 "$PY" -m pip install -q -e ".${extra:+[$extra]}"
  echo "$ROOT [$extra]" >"$STAMP"
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
    root_flag=()
    # Jupyter refuses to start as root (containers, Binder-like VMs) without this.
    [ "$(id -u)" -ne 0 ] || root_flag=(--ServerApp.allow_root=True)
    log "opening notebooks/01_quickstart.ipynb"
    exec "$PY" -m jupyter lab ${root_flag[@]+"${root_flag[@]}"} notebooks/01_quickstart.ipynb "${@:2}"
    ;;
  test)
    setup_python; setup_js always; setup_package "dev" always; setup_browser
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
