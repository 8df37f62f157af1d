#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqtrade as the referee: backtest a coincast signal CSV on freqtrade candles (feather or JSON),
# offline, and write freqtrade's trades to OUT/trades.csv and OUT/trades.json.
#
#   integrations/freqtrade/referee/run.sh --signals SIGNALS.csv \
#       (--datadir DIR | --candles [PAIR=]FILE [--candles ...] [--candles-format feather|json]) \
#       --out OUT [--horizon 1h] [--timeframe 5m] [--mode spot|futures] [--fee-bps 10] \
#       [--slippage-bps 0] [--min-confidence 0] [--pairs BTC/USDT ...] \
#       [--timerange 20240301-20240401] [--check]
#
# --candles takes single files (e.g. server/tests/fixtures/BTC_USDT-5m-2025-06.json), pair and
# timeframe from the name; see referee/README.md. ci.sh wraps this and compares with a ledger.
#
# Makes (or reuses) a venv outside the repository with the pinned freqtrade of requirements.txt,
# from PyPI only: $COINCAST_FT_VENV, default ${XDG_CACHE_HOME:-$HOME/.cache}/coincast/ft-venv.
# After that nothing touches the network (offline.py refuses any connection but loopback).
# Needs python3.11 (or $COINCAST_PYTHON). Every step prints its time.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${COINCAST_FT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/coincast/ft-venv}"
PY="${COINCAST_PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
REQ="$HERE/requirements.txt"
STAMP="$VENV/.coincast-requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"

t0=$(date +%s.%N)
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    echo "[referee] venv: reusing $VENV"
else
    "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
        || echo "[referee] warning: requirements.txt was pinned on Python 3.11; $("$PY" -V)" >&2
    echo "[referee] venv: installing the pinned freqtrade into $VENV"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --prefer-binary \
        -r "$REQ"
    echo "$want" > "$STAMP"
fi
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "[referee] venv: %.1f s\n", b - a }'

export PYTHONDONTWRITEBYTECODE=1
exec "$VENV/bin/python" "$HERE/referee.py" "$@"
