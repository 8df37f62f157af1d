#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare two trade lists position by position (standard library only).

  compare_trades.py EXPECTED.csv ACTUAL.csv [--tolerance 1e-9] [--complete-only]

Both CSVs need the columns pair, open_date, close_date, is_short, open_rate, close_rate,
profit_ratio (other columns are ignored): e.g. coincast's own ledger against the referee's
trades.csv, or a golden file in fixtures/ against a new run. Dates are compared as RFC 3339 UTC
instants, is_short as true/false (also 1/0), rates and profit ratios as numbers: rates must be
equal (both sides read the same candles), profit ratios within --tolerance. With
--complete-only, rows of ACTUAL whose `complete` column is false (freqtrade's force_exit at the
end of the data) are left out. Exit status 0 when both lists hold the same positions.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime

NEEDED = ["pair", "open_date", "close_date", "is_short", "open_rate", "close_rate",
          "profit_ratio"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(UTC)


def boolean(text: str) -> bool:
    t = text.strip().lower()
    if t in ("true", "1"):
        return True
    if t in ("false", "0"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def load(path: str, complete_only: bool) -> dict:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"{path}: missing columns {missing}")
        out = {}
        for r in reader:
            if complete_only and "complete" in r and not boolean(r["complete"]):
                continue
            key = (r["pair"], instant(r["open_date"]))
            if key in out:
                sys.exit(f"{path}: two positions of {key[0]} open at {key[1]}")
            out[key] = (instant(r["close_date"]), boolean(r["is_short"]), float(r["open_rate"]),
                        float(r["close_rate"]), float(r["profit_ratio"]))
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--tolerance", type=float, default=1e-9)
    ap.add_argument("--complete-only", action="store_true")
    a = ap.parse_args()
    exp = load(a.expected, False)
    act = load(a.actual, a.complete_only)
    problems = []
    worst = 0.0
    for key in sorted(exp.keys() | act.keys()):
        e, g = exp.get(key), act.get(key)
        where = f"{key[0]} {key[1]:%Y-%m-%dT%H:%M:%SZ}"
        if e is None or g is None:
            problems.append(f"{where}: only in {'actual' if e is None else 'expected'}")
            continue
        diffs = [name for name, x, y in zip(("close_date", "is_short", "open_rate",
                                             "close_rate"), e[:4], g[:4]) if x != y]
        d = abs(e[4] - g[4])
        worst = max(worst, d)
        if d > a.tolerance:
            diffs.append(f"profit_ratio |{e[4]} - {g[4]}| = {d:.3g}")
        if diffs:
            problems.append(f"{where}: " + ", ".join(diffs))
    print(f"[compare] {len(exp)} expected, {len(act)} actual positions; max |profit_ratio diff| "
          f"{worst:.3g} (tolerance {a.tolerance}); {len(problems)} differences")
    for p in problems[:30]:
        print("  - " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
