#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Export the trades of freqtrade's latest backtest result to OUT/trades.csv and OUT/trades.json.

Columns (one row per trade, ordered by open_date then pair):
  pair          spot form, BTC/USDT (a futures pair BTC/USDT:USDT is written BTC/USDT; `mode` says)
  open_date     RFC 3339 UTC, the open of the entry candle
  close_date    RFC 3339 UTC, the open of the exit candle
  is_short      true | false
  open_rate     entry price (the entry candle's open)
  close_rate    exit price (the exit candle's open; for force_exit, the last candle's close)
  profit_ratio  freqtrade's net return after fees (fee = fee + slippage per side):
                long:  close_rate*(1-fee) / (open_rate*(1+fee)) - 1
                short: 1 - close_rate*(1+fee) / (open_rate*(1-fee))
  fee           fee per side freqtrade charged (fee + slippage of the run), as a fraction
  exit_reason   coincast_<h>_elapsed for a position held for the horizon; force_exit when the
                data ended first (not a complete position under the fill rule)
  complete      true when exit_reason is the horizon's
  enter_tag     the signal that opened it (horizon, signal, confidence, line of the CSV)
  mode          spot | futures
  amount, stake_amount, profit_abs   freqtrade's sizes (fixed 1000 USDT stake), for information
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from freqtrade.data.btanalysis import load_backtest_data

COLUMNS = ["pair", "open_date", "close_date", "is_short", "open_rate", "close_rate",
           "profit_ratio", "fee", "exit_reason", "complete", "enter_tag", "mode",
           "amount", "stake_amount", "profit_abs"]


def rfc3339(ts) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", required=True, type=Path, help="freqtrade backtest_results dir")
    ap.add_argument("--out", required=True, type=Path)
    a = ap.parse_args()

    df = load_backtest_data(a.results)
    rows = []
    if len(df):
        df = df.sort_values(["open_date", "pair"], kind="stable")
    for r in df.itertuples(index=False):
        mode = "futures" if ":" in r.pair else "spot"
        rows.append({
            "pair": r.pair.split(":")[0],
            "open_date": rfc3339(r.open_date),
            "close_date": rfc3339(r.close_date),
            "is_short": bool(r.is_short),
            "open_rate": float(r.open_rate),
            "close_rate": float(r.close_rate),
            "profit_ratio": float(r.profit_ratio),
            "fee": float(r.fee_open),
            "exit_reason": r.exit_reason,
            "complete": str(r.exit_reason).endswith("_elapsed"),
            "enter_tag": r.enter_tag,
            "mode": mode,
            "amount": float(r.amount),
            "stake_amount": float(r.stake_amount),
            "profit_abs": float(r.profit_abs),
        })
    with (a.out / "trades.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()})
    (a.out / "trades.json").write_text(json.dumps({"trades": rows}, indent=1))
    done = sum(r["complete"] for r in rows)
    print(f"[referee] {len(rows)} trades exported ({done} complete, {len(rows) - done} cut by "
          f"the end of the data) to {a.out / 'trades.csv'}")


if __name__ == "__main__":
    main()
