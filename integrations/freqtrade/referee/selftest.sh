#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The freqtrade integration's own checks, offline after the venv exists (1 to 3 minutes):
#   1. unit tests of the strategy (signal file, fill rule, live polling against a loopback stand-in)
#      and a dry-run smoke test (freqtrade's live loop, coincast and Binance stood in locally);
#   2. the referee on the fixtures (real Binance candles, see fixtures/README.md) with --check:
#      freqtrade's trades must equal an independent computation of the fill rule; on the
#      hand-written edge cases they must also equal the golden files checked by hand;
#   3. ci.sh on server/tests/fixtures/BTC_USDT-5m-2025-06.json (freqtrade JSON): a correct ledger
#      passes (spot; futures with freqtrade reading the JSON), a corrupted one fails.
# Prints one closing line "selftest: N passed, N failed"; exits non-zero on any failure.
#   integrations/freqtrade/referee/selftest.sh [--quick] [OUT_DIR]
# --quick (for CI, about 20-30 s once the venv exists): only the hand-written edge-case fixtures
# through freqtrade's backtester, checked by --check and against the golden files: entries at or
# after publication, exits after the horizon, newest-per-candle, flips back to back, FLAT and
# after-the-data signals, SHORT skipped in spot, min_confidence (futures). No unit tests, no
# dry-run smoke, no hourly fixtures, no ci.sh.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
QUICK=""
if [[ "${1:-}" == "--quick" ]]; then
    QUICK=1
    shift
fi
OUT="${1:-$(mktemp -d)}"
FIX="$HERE/fixtures"
VENV="${COINCAST_FT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/coincast/ft-venv}"
export PYTHONDONTWRITEBYTECODE=1
passed=0
failed=0

step() {  # step NAME COMMAND...
    local name="$1"
    shift
    local t0=$SECONDS
    if "$@" > "$OUT/$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   $name ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1))
        echo "FAIL $name ($((SECONDS - t0)) s): tail of $OUT/$name.log"
        tail -n 25 "$OUT/$name.log" | sed 's/^/     /'
    fi
    grep -h '^\[check\]\|^\[compare\]\|^dryrun smoke: trades' "$OUT/$name.log" | sed 's/^/     /' || true
}

mkdir -p "$OUT"
# The first referee run makes the venv if needed (its install time is printed in its log).
step edge-spot "$HERE/run.sh" --signals "$FIX/signals-edge-cases.csv" --datadir "$FIX" \
    --out "$OUT/edge-spot" --horizon 1h --mode spot --check
step edge-spot-golden "$VENV/bin/python" "$HERE/compare_trades.py" \
    "$FIX/expected-edge-cases-1h-spot.csv" "$OUT/edge-spot/trades.csv"
[[ -n "$QUICK" ]] || step unit "$VENV/bin/python" -m unittest discover -s "$HERE/../tests"
step edge-futures-minconf "$HERE/run.sh" --signals "$FIX/signals-edge-cases.csv" \
    --datadir "$FIX" --out "$OUT/edge-futures" --horizon 1h --mode futures \
    --min-confidence 0.1 --check
step edge-futures-golden "$VENV/bin/python" "$HERE/compare_trades.py" \
    "$FIX/expected-edge-cases-1h-futures-minconf0.1.csv" "$OUT/edge-futures/trades.csv"
if [[ -n "$QUICK" ]]; then
    echo "outputs in $OUT"
    echo "selftest --quick: $passed passed, $failed failed ($SECONDS s)"
    [[ $failed -eq 0 ]]
    exit
fi
step hourly-1h-spot "$HERE/run.sh" --signals "$FIX/signals-hourly.csv" --datadir "$FIX" \
    --out "$OUT/hourly-1h-spot" --horizon 1h --mode spot --check
step hourly-2h-futures-slippage "$HERE/run.sh" --signals "$FIX/signals-hourly.csv" \
    --datadir "$FIX" --out "$OUT/hourly-2h-futures" --horizon 2h --mode futures \
    --slippage-bps 2 --check
# ci.sh on the repo's own freqtrade-JSON candles (server/tests/fixtures, real Binance BTC/USDT
# 5m, 2025-06-21..30): a ledger computed independently (check_fill_rule.py) must pass, in spot
# with feather staging and in futures with freqtrade reading the JSON itself; the same ledger with
# one close_date moved by 5 minutes must fail.
JSON_CANDLES="$HERE/../../../server/tests/fixtures/BTC_USDT-5m-2025-06.json"
ci_json() {  # ci_json MODE [extra ci.sh args]
    local mode="$1"; shift
    local d="$OUT/ci-json-$mode"
    mkdir -p "$d"
    "$VENV/bin/python" "$HERE/make_test_signals.py" --candles "$JSON_CANDLES" \
        --start 2025-06-21 --end 2025-07-01 --horizons 1h --out "$d/signals.csv" &&
    "$VENV/bin/python" "$HERE/check_fill_rule.py" --signals "$d/signals.csv" \
        --candles "$JSON_CANDLES" --horizon 1h --mode "$mode" --fee-bps 10 --slippage-bps 2 \
        --write-ledger "$d/ledger.csv" &&
    "$HERE/ci.sh" --signals "$d/signals.csv" --ledger "$d/ledger.csv" --candles "$JSON_CANDLES" \
        --horizon 1h --mode "$mode" --fee-bps 10 --slippage-bps 2 --out "$d/out" "$@"
}
ci_json_corrupt_fails() {
    local d="$OUT/ci-json-spot"
    awk -F, -v OFS=, 'NR == 11 { sub(/:05:00Z$/, ":10:00Z", $3) } { print }' "$d/ledger.csv" \
        > "$d/ledger-corrupt.csv"
    if "$HERE/ci.sh" --signals "$d/signals.csv" --ledger "$d/ledger-corrupt.csv" \
        --candles "$JSON_CANDLES" --horizon 1h --mode spot --fee-bps 10 --slippage-bps 2 \
        --out "$d/out-corrupt"; then
        echo "ci.sh passed a corrupted ledger"
        return 1
    fi
    grep -q 'close_date' "$d/out-corrupt/compare.json" || { echo "not the close_date"; return 1; }
    echo "[compare] the corrupted ledger failed as it should"
}
step ci-json-spot ci_json spot
step ci-json-corrupt-fails ci_json_corrupt_fails
step ci-json-futures-jsonformat ci_json futures --candles-format json
# The live path inside a real `freqtrade trade --dry-run` (loopback coincast, local Binance).
step dryrun-smoke "$VENV/bin/python" "$HERE/../tests/dryrun_smoke.py"
echo "outputs in $OUT"
echo "selftest: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
