#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare two trade lists position by position (standard library only).

  compare_trades.py EXPECTED.csv ACTUAL.csv [--tolerance 1e-9] [--complete-only]
                    [--strict-expected] [--min-compared N] [--names coincast freqtrade]
                    [--report FILE.json]

Both CSVs need the columns pair, open_date, close_date, is_short, open_rate, close_rate,
profit_ratio (other columns are ignored): e.g. coincast's own ledger against the referee's
trades.csv, or a golden file in fixtures/ against a new run. Dates are compared as RFC 3339 UTC
instants, is_short as true/false (also 1/0), rates and profit ratios as numbers: rates must be
equal (both sides read the same candles), profit ratios within --tolerance. With
--complete-only, rows of ACTUAL whose `complete` column is false (freqtrade's force_exit at the
end of the data) are left out.

--strict-expected also requires EXPECTED's text to be in the ledger format exactly: dates
`YYYY-MM-DDTHH:MM:SSZ`, is_short `true`/`false`, finite numbers. --min-compared N fails unless
at least N positions were compared (ci.sh uses 1: an empty comparison is not a pass).

Prints the positions on each side, compared and matched, the largest |profit_ratio difference|,
and each side's total net return over its positions (compounded: prod(1 + r) - 1; and the plain
sum). Exit status 0 when both lists hold the same positions, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from datetime import UTC, datetime

NEEDED = ["pair", "open_date", "close_date", "is_short", "open_rate", "close_rate",
          "profit_ratio"]
STRICT_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(UTC)


def boolean(text: str) -> bool:
    t = text.strip().lower()
    if t in ("true", "1"):
        return True
    if t in ("false", "0"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def number(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {text!r}")
    return x


def strict_row(r: dict) -> None:
    for c in ("open_date", "close_date"):
        if not STRICT_DATE.match(r[c]):
            raise ValueError(f"{c} {r[c]!r} is not YYYY-MM-DDTHH:MM:SSZ")
    if r["is_short"] not in ("true", "false"):
        raise ValueError(f"is_short {r['is_short']!r} is not true/false")


def load(path: str, complete_only: bool, strict: bool = False) -> dict:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"{path}: missing columns {missing}")
        out = {}
        for line, r in enumerate(reader, start=2):
            try:
                if strict:
                    strict_row(r)
                if complete_only and "complete" in r and not boolean(r["complete"]):
                    continue
                key = (r["pair"], instant(r["open_date"]))
                row = (instant(r["close_date"]), boolean(r["is_short"]), number(r["open_rate"]),
                       number(r["close_rate"]), number(r["profit_ratio"]))
            except (ValueError, TypeError, AttributeError) as e:
                sys.exit(f"{path}:{line}: {e}")
            if key in out:
                sys.exit(f"{path}:{line}: two positions of {key[0]} open at {key[1]}")
            out[key] = row
        return out


def totals(rows: dict) -> tuple[float, float]:
    comp = 1.0
    for v in rows.values():
        comp *= 1.0 + v[4]
    return comp - 1.0, math.fsum(v[4] for v in rows.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--tolerance", type=float, default=1e-9)
    ap.add_argument("--complete-only", action="store_true")
    ap.add_argument("--strict-expected", action="store_true")
    ap.add_argument("--min-compared", type=int, default=0)
    ap.add_argument("--names", nargs=2, default=["expected", "actual"],
                    metavar=("EXPECTED", "ACTUAL"), help="what to call the two sides")
    ap.add_argument("--report", help="also write the summary and differences here as JSON")
    a = ap.parse_args()
    ne, na = a.names
    exp = load(a.expected, False, a.strict_expected)
    act = load(a.actual, a.complete_only)
    problems = []
    worst = 0.0
    compared = matched = 0
    for key in sorted(exp.keys() | act.keys()):
        e, g = exp.get(key), act.get(key)
        where = f"{key[0]} {key[1]:%Y-%m-%dT%H:%M:%SZ}"
        if e is None or g is None:
            problems.append(f"{where}: only in {na if e is None else ne}")
            continue
        compared += 1
        diffs = [f"{name} {x!r} != {y!r}" if name.endswith("rate") else name
                 for name, x, y in zip(("close_date", "is_short", "open_rate", "close_rate"),
                                       e[:4], g[:4]) if x != y]
        d = abs(e[4] - g[4])
        worst = max(worst, d)
        if not d <= a.tolerance:
            diffs.append(f"profit_ratio |{e[4]!r} - {g[4]!r}| = {d:.3g}")
        if diffs:
            problems.append(f"{where}: " + ", ".join(diffs) + f" ({ne} {fmt(e)}; {na} {fmt(g)})")
        else:
            matched += 1
    if compared < a.min_compared:
        problems.append(f"only {compared} positions compared (at least {a.min_compared} needed)")
    te, ta = totals(exp), totals(act)
    print(f"[compare] {len(exp)} {ne}, {len(act)} {na} positions; {compared} compared, "
          f"{matched} matched; max |profit_ratio diff| {worst:.3g} (tolerance {a.tolerance}); "
          f"{len(problems)} differences")
    print(f"[compare] total net return, compounded (sum): {na} {te_fmt(ta)}, {ne} {te_fmt(te)}")
    for p in problems[:30]:
        print("  - " + p)
    if len(problems) > 30:
        print(f"  - ... and {len(problems) - 30} more")
    if a.report:
        with open(a.report, "w") as fh:
            json.dump({"expected": ne, "actual": na, "expected_positions": len(exp),
                       "actual_positions": len(act), "compared": compared, "matched": matched,
                       "max_abs_profit_ratio_diff": worst, "tolerance": a.tolerance,
                       "total_net_return_compounded": {ne: te[0], na: ta[0]},
                       "total_net_return_sum": {ne: te[1], na: ta[1]},
                       "problems": problems, "ok": not problems}, fh, indent=1)
    sys.exit(1 if problems else 0)


def fmt(v: tuple) -> str:
    return (f"close {v[0]:%Y-%m-%dT%H:%M:%SZ} {'short' if v[1] else 'long'} "
            f"{v[2]!r}->{v[3]!r} r={v[4]!r}")


def te_fmt(t: tuple[float, float]) -> str:
    return f"{t[0]:+.10f} ({t[1]:+.10f})"


if __name__ == "__main__":
    main()
