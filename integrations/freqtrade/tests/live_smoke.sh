#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The live path against a REAL coincast, offline, in about 2 minutes:
#
#   integrations/freqtrade/tests/live_smoke.sh COINCAST_BIN [OUT_DIR] [live_smoke.py options]
#
# 1. starts COINCAST_BIN replaying its bundled recording (shifted to now; no internet) on a free
#    port with a fresh data dir:
#      COINCAST__SERVER__RATE_LIMIT_PER_SECOND=0 BIN --data-dir OUT/coincast-data \
#        --config OUT/coincast.toml serve --replay --port 0
#    (the settings file: BTC, LTC and XRP on the minute sample, binance-1m-2021-05)
#    and waits until /api/predictions?coin=BTC&horizon=30m has a prediction;
# 2. runs live_smoke.py in the pinned venv (made by referee/run.sh if missing): freqtrade trade
#    --dry-run with CoincastSignals polling that server, Binance stood in locally with the same
#    recorded candles; asserts the polls (ETag, If-None-Match, 304), every decision against
#    coincast's record, the dry-run trades, and export_history.py's file (see live_smoke.py);
# 3. stops both processes, whatever happens, and prints the timings.
# Options after OUT_DIR go to live_smoke.py, e.g. --require-trade (fail unless a LONG was traded),
# --horizon 1h, --max-candles 3, --deadline-s 150.
# Exit status 0 only when every check passed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REFEREE="$HERE/../referee"
VENV="${COINCAST_FT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/coincast/ft-venv}"
BIN="${1:-}"
if [[ -z "$BIN" || "$BIN" == -* ]]; then
    echo "usage: $0 COINCAST_BIN [OUT_DIR] [live_smoke.py options]" >&2
    exit 2
fi
shift
if [[ ! -x "$BIN" ]]; then
    echo "live smoke: FAIL: $BIN is not an executable coincast binary" >&2
    exit 2
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
OUT=""
if [[ $# -gt 0 && "$1" != -* ]]; then
    OUT="$1"
    shift
fi
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/coincast-live-smoke.XXXXXX")}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
export PYTHONDONTWRITEBYTECODE=1
SYSTEM_PYTHON="$(command -v python3)"

t_start=$(date +%s.%N)
stamp() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "[live-smoke $(stamp) s] $*"; }

CC_PID=""
PY_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$PY_PID" ]] && kill -0 "$PY_PID" 2>/dev/null; then
        kill -TERM "$PY_PID" 2>/dev/null
        wait "$PY_PID" 2>/dev/null
    fi
    # freqtrade, should live_smoke.py have died without stopping it (its own process group).
    if [[ -f "$OUT/freqtrade.pid" ]]; then
        local fp
        fp="$(cat "$OUT/freqtrade.pid")"
        if kill -0 "$fp" 2>/dev/null; then
            kill -TERM "$fp" 2>/dev/null
            sleep 2
            kill -KILL "$fp" 2>/dev/null
        fi
    fi
    if [[ -n "$CC_PID" ]] && kill -0 "$CC_PID" 2>/dev/null; then
        kill -TERM "$CC_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$CC_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$CC_PID" 2>/dev/null
        wait "$CC_PID" 2>/dev/null
    fi
    say "stopped coincast and freqtrade; total $(stamp) s; outputs in $OUT"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The pinned venv: referee/run.sh makes it when missing or outdated (PyPI only).
want="$(sha256sum "$REFEREE/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.coincast-requirements.sha256" 2>/dev/null)" != "$want" ]]; then
    say "installing the pinned freqtrade venv (referee/run.sh)"
    "$REFEREE/run.sh" --help > "$OUT/venv-install.log" 2>&1 \
        || { tail -20 "$OUT/venv-install.log"; say "FAIL: venv install"; exit 1; }
fi
say "venv ready ($VENV)"

# 1. The real coincast, replaying, fresh data dir, a free port (--port 0, read from its log).
#    It serves BTC, LTC and XRP from the bundled minute recording (binance-1m-2021-05): one new
#    candle a minute, so a 1m bot sees several decisions in two minutes (the default sample's
#    5-minute candles would take a quarter of an hour).
DATA="$(mktemp -d "$OUT/coincast-data.XXXXXX")"
cat > "$OUT/coincast.toml" <<'TOML'
[replay]
sample = "binance-1m-2021-05"

[[coins]]
symbol = "BTC"

[[coins]]
symbol = "LTC"

[[coins]]
symbol = "XRP"
TOML
t_cc=$(date +%s.%N)
COINCAST__SERVER__RATE_LIMIT_PER_SECOND=0 NO_COLOR=1 \
    "$BIN" --data-dir "$DATA" --config "$OUT/coincast.toml" serve --replay --port 0 > "$OUT/coincast.log" 2>&1 &
CC_PID=$!
PORT=""
for _ in $(seq 1 300); do
    kill -0 "$CC_PID" 2>/dev/null || { tail -20 "$OUT/coincast.log"; say "FAIL: coincast exited"; exit 1; }
    PORT="$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/coincast.log" | grep -oE 'listening on http://[^:]+:[0-9]+' \
        | head -1 | sed 's/.*://')"
    [[ -n "$PORT" ]] && break
    sleep 0.2
done
[[ -n "$PORT" ]] || { tail -20 "$OUT/coincast.log"; say "FAIL: coincast did not say its port"; exit 1; }
URL="http://127.0.0.1:$PORT"
say "coincast (pid $CC_PID) listening at $URL; waiting for its first predictions"
ready=""
for _ in $(seq 1 180); do
    kill -0 "$CC_PID" 2>/dev/null || { tail -20 "$OUT/coincast.log"; say "FAIL: coincast exited"; exit 1; }
    if "$SYSTEM_PYTHON" - "$URL" <<'EOF' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/api/predictions?coin=BTC&horizon=30m", timeout=5) as r:
    body = json.load(r)
sys.exit(0 if any(e.get("prediction") for e in body["predictions"]) else 1)
EOF
    then
        ready=1
        break
    fi
    sleep 1
done
[[ -n "$ready" ]] || { tail -20 "$OUT/coincast.log"; say "FAIL: no prediction within 180 s"; exit 1; }
cc_ready=$(awk -v a="$t_cc" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
say "coincast has predictions ${cc_ready} s after it started"

# 2. freqtrade against it.
"$VENV/bin/python" "$HERE/live_smoke.py" --url "$URL" --out "$OUT" \
    --export-python "$SYSTEM_PYTHON" "$@" &
PY_PID=$!
wait "$PY_PID"
rc=$?
PY_PID=""
say "coincast ready in ${cc_ready} s; live_smoke.py exit status $rc"
exit "$rc"
