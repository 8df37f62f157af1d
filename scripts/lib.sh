# shellcheck shell=bash
# Shared helpers of the scripts in this folder: installing what is missing, the WebAssembly toolchain.
# Every install step the project needs lives here, so a fresh machine (or CI) needs nothing by hand.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
cd "$ROOT"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# listening_port LOG PID [SECONDS]: the port a server started with `--port 0` bound, read from its
# log line `listening on http://HOST:PORT` (coincast serve, and the load test's reference server).
# No port is picked, freed and bound again, so nothing can take it in between. Fails when PID ends
# first or after SECONDS (default 120).
listening_port() {
  local log="$1" pid="$2" limit="${3:-120}" port="" i
  for ((i = 0; i < limit * 10; i++)); do
    port="$(sed -n 's|.*listening on http://[^:]*:\([0-9][0-9]*\).*|\1|p' "$log" 2>/dev/null | head -1)"
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "the server ended before it listened; its log:" >&2; tail -30 "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "no 'listening on' line in $log after ${limit}s" >&2
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
# ensure_apt PKG...: installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    log "please install: ${missing[*]} (no apt-get here)"; return 1
  fi
  log "installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The PostgreSQL server the integration tests' second pass and scripts/cluster use: the local
# one on 127.0.0.1:5432, user postgres, no password (COINCAST_TEST_DATABASE overrides it).
PG_SERVER_URL="${COINCAST_TEST_DATABASE:-postgres://postgres@127.0.0.1:5432}"
export PG_SERVER_URL

# pg_answers: whether PG_SERVER_URL accepts us (3 s at most).
pg_answers() {
  command -v psql >/dev/null || return 1
  PGCONNECT_TIMEOUT=3 psql "$PG_SERVER_URL/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1
}

# ensure_postgres: a PostgreSQL server that answers at PG_SERVER_URL. On a fresh Debian machine:
# installs `postgresql`, starts its cluster when none runs, and lets user postgres in from
# 127.0.0.1 without a password (a pg_hba.conf line: a test and demo setup, not a production one).
ensure_postgres() {
  pg_answers && return 0
  if [ -n "${COINCAST_TEST_DATABASE:-}" ]; then
    log "COINCAST_TEST_DATABASE=$COINCAST_TEST_DATABASE does not answer"; return 1
  fi
  ensure_apt postgresql postgresql-client
  local ver
  ver="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  if command -v pg_lsclusters >/dev/null && ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    log "creating the PostgreSQL $ver cluster"
    as_root pg_createcluster "$ver" main >/dev/null
  fi
  local conf="/etc/postgresql/$ver/main/pg_hba.conf"
  if [ -f "$conf" ] && ! as_root grep -q '^host all postgres 127.0.0.1/32 trust' "$conf"; then
    log "letting user postgres in from 127.0.0.1 without a password ($conf)"
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$conf"
  fi
  if pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    as_root pg_ctlcluster "$ver" main reload
  else
    log "starting PostgreSQL $ver"
    as_root pg_ctlcluster "$ver" main start
  fi
  for _ in $(seq 1 30); do pg_answers && return 0; sleep 1; done
  log "PostgreSQL does not answer at $PG_SERVER_URL"; return 1
}

# The version of a package in Cargo.lock.
locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# The cargo-deny release the CI's licence and ban checks run with (crates.io, MIT/Apache-2.0).
CARGO_DENY_VERSION=0.20.2

# ensure_cargo_deny: cargo-deny at CARGO_DENY_VERSION (built from crates.io once, a few minutes).
ensure_cargo_deny() {
  local have=""
  command -v cargo-deny >/dev/null && have="$(cargo-deny --version | awk '{print $2}')"
  if [ "$have" != "$CARGO_DENY_VERSION" ]; then
    log "installing cargo-deny $CARGO_DENY_VERSION (a few minutes, once)"
    cargo install cargo-deny --version "=$CARGO_DENY_VERSION" --locked --quiet
  fi
}

# ensure_wasm_bindgen: the wasm-bindgen CLI at exactly the version in Cargo.lock.
ensure_wasm_bindgen() {
  local want have=""
  want="$(locked_version wasm-bindgen)"
  command -v wasm-bindgen >/dev/null && have="$(wasm-bindgen --version | awk '{print $2}')"
  if [ "$have" != "$want" ]; then
    log "installing wasm-bindgen-cli $want (about 3 minutes, once)"
    # Not --locked: its lock file pins a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "=$want" --quiet
  fi
}

# WASM_ROUTE: "rustup" when rustup has (or can get) the wasm32 standard library, else "debian":
# Debian's rustc-web toolchain building std itself (-Zbuild-std), which needs no download from rustup.
# COINCAST_WASM_TOOLCHAIN=rustup|debian forces one.
choose_wasm_route() {
  WASM_ROUTE="${COINCAST_WASM_TOOLCHAIN:-auto}"
  if [ "$WASM_ROUTE" = auto ]; then
    if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
      WASM_ROUTE=rustup
    elif command -v rustup >/dev/null && timeout 90 rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
        && rustup target list --installed | grep -qx wasm32-unknown-unknown; then
      WASM_ROUTE=rustup
    else
      WASM_ROUTE=debian
    fi
  fi
  if [ "$WASM_ROUTE" = debian ]; then
    # rust-web-llvm (only recommended by rustc-web, so --no-install-recommends leaves it out) has
    # rust-lld, the wasm linker; it links it to lld-22, which it does not depend on.
    ensure_apt rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  fi
  export WASM_ROUTE
}

# cargo_wasm ARGS...: cargo for the wasm32 target through the chosen route, in target-wasm/.
cargo_wasm() {
  if [ "$WASM_ROUTE" = rustup ]; then
    cargo "$1" "${@:2}" --target wasm32-unknown-unknown --target-dir "$ROOT/target-wasm"
  else
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo "$1" "${@:2}" -Zbuild-std=std,panic_abort \
      --target wasm32-unknown-unknown --target-dir "$ROOT/target-wasm/debian"
  fi
}

# The release output directory of cargo_wasm for a profile.
wasm_out_dir() {
  if [ "$WASM_ROUTE" = rustup ]; then echo "$ROOT/target-wasm/wasm32-unknown-unknown/$1"
  else echo "$ROOT/target-wasm/debian/wasm32-unknown-unknown/$1"; fi
}

# ensure_wasm_opt: binaryen's wasm-opt from npm (Debian's binaryen 108 miscompiles current
# wasm-bindgen output). Prints its path, or nothing when npm is unavailable (the bundle is then
# just larger).
ensure_wasm_opt() {
  local dir="$ROOT/target-wasm/npm" version=132.0.0
  if [ ! -x "$dir/node_modules/.bin/wasm-opt" ]; then
    command -v npm >/dev/null || return 0
    log "installing binaryen $version (wasm-opt) from npm"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --silent "binaryen@$version" >&2 || return 0
  fi
  echo "$dir/node_modules/.bin/wasm-opt"
}

# The API-contract tools from PyPI, pinned: schemathesis (property-based requests against the
# OpenAPI document) and openapi-python-client (generates the typed client a bot would use).
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1

# ensure_api_tools: a virtualenv in ~/.cache/coincast/api-tools with both tools at the pinned
# versions (one pip install, once); prints the venv's bin directory.
ensure_api_tools() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/coincast/api-tools"
  local stamp="$venv/.versions" want="schemathesis==$SCHEMATHESIS_VERSION openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v python3 >/dev/null || ensure_apt python3 python3-venv
    log "installing $want into $venv (once)"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2 || { ensure_apt python3-venv; python3 -m venv "$venv" >&2; }
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
    echo "$want" >"$stamp"
  fi
  echo "$venv/bin"
}
