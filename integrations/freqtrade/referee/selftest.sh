#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The freqtrade integration's own checks, offline after the venv exists (1 to 3 minutes):
#   1. unit tests of the strategy (signal file, fill rule, live polling against a loopback stand-in)
#      and a dry-run smoke test (freqtrade's live loop, coincast and Binance stood in locally);
#   2. the referee on the fixtures (real Binance candles, see fixtures/README.md) with --check:
#      freqtrade's trades must equal an independent computation of the fill rule; on the
#      hand-written edge cases they must also equal the golden files checked by hand.
# Prints one closing line "selftest: N passed, N failed"; exits non-zero on any failure.
#   integrations/freqtrade/referee/selftest.sh [OUT_DIR]
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
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
step unit "$VENV/bin/python" -m unittest discover -s "$HERE/../tests"
step edge-futures-minconf "$HERE/run.sh" --signals "$FIX/signals-edge-cases.csv" \
    --datadir "$FIX" --out "$OUT/edge-futures" --horizon 1h --mode futures \
    --min-confidence 0.1 --check
step edge-futures-golden "$VENV/bin/python" "$HERE/compare_trades.py" \
    "$FIX/expected-edge-cases-1h-futures-minconf0.1.csv" "$OUT/edge-futures/trades.csv"
step hourly-1h-spot "$HERE/run.sh" --signals "$FIX/signals-hourly.csv" --datadir "$FIX" \
    --out "$OUT/hourly-1h-spot" --horizon 1h --mode spot --check
step hourly-2h-futures-slippage "$HERE/run.sh" --signals "$FIX/signals-hourly.csv" \
    --datadir "$FIX" --out "$OUT/hourly-2h-futures" --horizon 2h --mode futures \
    --slippage-bps 2 --check
# The live path inside a real `freqtrade trade --dry-run` (loopback coincast, local Binance).
step dryrun-smoke "$VENV/bin/python" "$HERE/../tests/dryrun_smoke.py"
echo "outputs in $OUT"
echo "selftest: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
