#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# CI entry: freqtrade backtests coincast's signals and its trades must equal coincast's ledger.
#
#   integrations/freqtrade/referee/ci.sh --signals SIGNALS.csv --ledger LEDGER.csv \
#       --candles server/tests/fixtures/BTC_USDT-5m-2025-06.json [--candles MORE ...] \
#       --horizon 1h --mode spot|futures --fee-bps 10 --slippage-bps 2 --out DIR \
#       [any other run.sh option: --min-confidence, --timerange, --check, --candles-format ...]
#
# LEDGER.csv is coincast's: header pair,open_date,close_date,is_short,open_rate,close_rate,
# profit_ratio (more columns are ignored); dates YYYY-MM-DDTHH:MM:SSZ, is_short true/false;
# complete positions only. Steps:
#   1. run.sh: make or reuse the pinned freqtrade venv (PyPI only), backtest offline, export
#      freqtrade's trades to DIR/trades.csv (any failure: non-zero, no skipping);
#   2. compare_trades.py: the same set of (pair, open_date) as freqtrade's complete trades;
#      close_date, is_short, open_rate, close_rate equal; profit_ratio within 1e-9
#      (--tolerance X to change); at least one position compared.
# Prints a summary; DIR/compare.json has it as JSON. Exit 0 only when everything matched.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${COINCAST_FT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/coincast/ft-venv}"

ledger="" out="" tolerance="1e-9"
pass=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --ledger) ledger="${2:?--ledger needs a file}"; shift 2 ;;
        --ledger=*) ledger="${1#*=}"; shift ;;
        --tolerance) tolerance="${2:?--tolerance needs a number}"; shift 2 ;;
        --out) out="${2:?--out needs a folder}"; pass+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '3,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) pass+=("$1"); shift ;;
    esac
done
fail() { echo "[ci] FAIL: $*" >&2; exit 1; }
[[ -n "$ledger" ]] || fail "--ledger LEDGER.csv is required"
[[ -n "$out" ]] || fail "--out DIR is required"
[[ -f "$ledger" ]] || fail "no such ledger: $ledger"
ledger="$(cd "$(dirname "$ledger")" && pwd)/$(basename "$ledger")"

t0=$SECONDS
# Any failure here (install, freqtrade, export) stops the script with run.sh's status.
"$HERE/run.sh" --tolerance "$tolerance" "${pass[@]}" \
    || fail "the referee did not run (status $?); see the output above and $out/freqtrade.log"
[[ -s "$out/trades.csv" ]] || fail "freqtrade wrote no $out/trades.csv"

echo "[ci] comparing coincast's ledger $ledger with freqtrade's $out/trades.csv"
status=0
"$VENV/bin/python" "$HERE/compare_trades.py" "$ledger" "$out/trades.csv" --complete-only \
    --strict-expected --min-compared 1 --tolerance "$tolerance" --names coincast freqtrade \
    --report "$out/compare.json" || status=$?
if [[ $status -ne 0 ]]; then
    echo "[ci] FAIL: coincast's ledger and freqtrade differ, or the ledger is malformed" \
        "($((SECONDS - t0)) s; details above and in $out/compare.json when written)" >&2
    exit 1
fi
echo "[ci] PASS: coincast's ledger equals freqtrade's trades ($((SECONDS - t0)) s)"
