#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recompute the fill rule from the candles and the signal CSV, independently of freqtrade and
of the strategy's code, and compare it trade by trade with the trades freqtrade exported.

The rule (README.md, "The fill rule"):
  entry   the open of the first candle starting at or after published_at (if several signals of a
          pair fall before the same candle, the newest counts; signals whose entry candle is the
          data's first candle are not traded);
  FLAT, SHORT in spot mode, confidence < min_confidence: no position;
  exit    the open of the first candle starting at or after entry + horizon;
  overlap a signal whose entry candle opens before the open position's exit is ignored;
  P&L     fee + slippage per side on the notional, freqtrade's formula:
          long  close*(1-c) / (open*(1+c)) - 1;   short  1 - close*(1+c) / (open*(1-c)).
Positions whose exit candle is not in the data are incomplete: freqtrade closes them at the end
of the data (force_exit); they are listed, not compared.

Exit status 0 when every complete position matches (times, direction, rates exactly; profit
ratio within --tolerance) and freqtrade has no other trade; 1 otherwise.

Without --trades it only computes: --write-ledger FILE writes the complete positions in the
ledger format coincast's Rust side writes (pair,open_date,close_date,is_short,open_rate,
close_rate,profit_ratio; dates 2025-06-02T00:10:00Z, is_short true/false, numbers as the shortest
text that reads back as the same double), e.g. to test referee/ci.sh. Candles come from
--datadir (feather, freqtrade's layout) or from --candles [PAIR=]FILE (freqtrade JSON or
feather, pair from the name as in candles.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import pandas as pd
from pyarrow import feather

HORIZON_MIN = {"30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360, "12h": 720}


def load_candles(datadir: str | None, pair: str, tf: str, timerange: str | None,
                 files: dict | None = None) -> pd.DataFrame:
    base, quote = pair.split("/")
    if files:
        import candles

        df = candles.read(files[pair])
    else:
        df = feather.read_table(f"{datadir}/{base}_{quote}-{tf}.feather").to_pandas()
    df = df[["date", "open", "close"]].sort_values("date").reset_index(drop=True)
    df["date"] = df["date"].astype("datetime64[ns, UTC]")
    if timerange:
        start, _, stop = timerange.partition("-")
        if start:
            df = df[df["date"] >= pd.Timestamp(start, tz="UTC")]
        if stop:
            df = df[df["date"] <= pd.Timestamp(stop, tz="UTC")]
        df = df.reset_index(drop=True)
    return df


def expected_positions(candles: pd.DataFrame, sig: pd.DataFrame, horizon: str, can_short: bool,
                       min_conf: float, cost: float) -> list[dict]:
    if sig.empty or candles.empty:
        return []
    c = candles.rename(columns={"date": "entry"})
    c["entry_pos"] = range(len(c))
    # The first candle at or after published_at: an as-of join looking forward.
    s = sig.sort_values(["published_at", "line"]).reset_index(drop=True)
    m = pd.merge_asof(s, c, left_on="published_at", right_on="entry", direction="forward")
    m = m.dropna(subset=["entry"])
    m = m[m["entry_pos"] > 0]
    # The newest signal per entry candle.
    m = m.groupby("entry", sort=True).tail(1).sort_values("entry")
    dates = candles["date"]
    out = []
    busy_until = None
    h = pd.Timedelta(minutes=HORIZON_MIN[horizon])
    for r in m.itertuples(index=False):
        if r.signal == "FLAT" or (r.signal == "SHORT" and not can_short):
            continue
        if r.confidence < min_conf:
            continue
        if busy_until is not None and r.entry < busy_until:
            continue
        busy_until = r.entry + h
        later = candles[dates >= r.entry + h]
        short = r.signal == "SHORT"
        pos = {"pair": r.pair, "open_date": r.entry, "is_short": short, "open_rate": r.open,
               "line": int(r.line), "complete": not later.empty}
        if not later.empty:
            ex = later.iloc[0]
            o, x = float(r.open), float(ex["open"])
            if short:
                ratio = 1 - (x * (1 + cost)) / (o * (1 - cost))
                gross = -(x / o - 1)
            else:
                ratio = (x * (1 - cost)) / (o * (1 + cost)) - 1
                gross = x / o - 1
            pos.update(close_date=ex["date"], close_rate=x, profit_ratio=ratio,
                       gross=gross, net_additive=gross - 2 * cost)
        out.append(pos)
    return out


def write_ledger(path: str, positions: list[dict]) -> None:
    """Complete positions, ordered by open_date then pair, in coincast's ledger CSV format."""
    done = sorted((p for p in positions if p["complete"]),
                  key=lambda p: (p["open_date"], p["pair"]))
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["pair", "open_date", "close_date", "is_short", "open_rate", "close_rate",
                    "profit_ratio"])
        for p in done:
            w.writerow([p["pair"], f"{p['open_date']:%Y-%m-%dT%H:%M:%SZ}",
                        f"{p['close_date']:%Y-%m-%dT%H:%M:%SZ}", str(p["is_short"]).lower(),
                        repr(float(p["open_rate"])), repr(float(p["close_rate"])),
                        repr(float(p["profit_ratio"]))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signals", required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--datadir")
    src.add_argument("--candles", action="append", metavar="[PAIR=]FILE",
                     help="candle file (freqtrade JSON or feather); repeat for more pairs")
    ap.add_argument("--pairs", nargs="+", help="required with --datadir; default the --candles")
    ap.add_argument("--timeframe", default="5m")
    ap.add_argument("--horizon", default="1h")
    ap.add_argument("--mode", default="spot", choices=["spot", "futures"])
    ap.add_argument("--fee-bps", type=float, default=10.0)
    ap.add_argument("--slippage-bps", type=float, default=0.0)
    ap.add_argument("--min-confidence", type=float, default=0.0)
    ap.add_argument("--timerange")
    ap.add_argument("--trades", help="trades.csv written by export_trades.py, to compare with")
    ap.add_argument("--write-ledger", help="write the complete positions here (ledger CSV)")
    ap.add_argument("--tolerance", type=float, default=1e-9)
    ap.add_argument("--report", help="write a JSON report here")
    a = ap.parse_args()

    cost = (a.fee_bps + a.slippage_bps) / 10_000.0
    sig = pd.read_csv(a.signals, dtype={"pair": str, "horizon": str, "signal": str})
    sig["line"] = sig.index + 2
    sig["published_at"] = pd.to_datetime(
        sig["published_at"], utc=True, format="ISO8601"
    ).astype("datetime64[ns, UTC]")
    sig = sig[sig["horizon"] == a.horizon]

    files = None
    if a.candles:
        import candles

        specs = [candles.parse_spec(c) for c in a.candles]
        files = {f.pair: f.path for f in specs}
        a.pairs = a.pairs or list(files)
    elif not a.pairs:
        ap.error("--pairs is required with --datadir")
    expected = []
    for pair in a.pairs:
        cndl = load_candles(a.datadir, pair, a.timeframe, a.timerange, files)
        expected += expected_positions(cndl, sig[sig["pair"] == pair], a.horizon,
                                       a.mode == "futures", a.min_confidence, cost)
    if a.write_ledger:
        write_ledger(a.write_ledger, expected)
    if not a.trades:
        done = [e for e in expected if e["complete"]]
        print(f"[check] {len(done)} complete positions ({sum(e['is_short'] for e in done)} "
              f"short), {len(expected) - len(done)} incomplete"
              + (f"; ledger written to {a.write_ledger}" if a.write_ledger else ""))
        return

    with open(a.trades, newline="") as fh:
        got = list(csv.DictReader(fh))
    for g in got:
        g["open_date"] = pd.Timestamp(g["open_date"])
        g["close_date"] = pd.Timestamp(g["close_date"])
    key = lambda p: (p["pair"], p["open_date"])
    got_by = {key(g): g for g in got}

    problems: list[str] = []
    worst = 0.0
    worst_additive = 0.0
    matched = 0
    for e in expected:
        g = got_by.pop(key(e), None)
        label = f"{e['pair']} {e['open_date']:%Y-%m-%dT%H:%MZ} (CSV line {e['line']})"
        if not e["complete"]:
            if g is not None and g["complete"] == "true":
                problems.append(f"{label}: incomplete here but freqtrade completed it")
            continue
        if g is None:
            problems.append(f"{label}: expected a {'short' if e['is_short'] else 'long'}, "
                            "freqtrade has no trade")
            continue
        diffs = []
        if g["close_date"] != e["close_date"]:
            diffs.append(f"close_date {g['close_date']} != {e['close_date']}")
        if (g["is_short"] == "true") != e["is_short"]:
            diffs.append(f"is_short {g['is_short']} != {e['is_short']}")
        if float(g["open_rate"]) != float(e["open_rate"]):
            diffs.append(f"open_rate {g['open_rate']} != {e['open_rate']}")
        if float(g["close_rate"]) != e["close_rate"]:
            diffs.append(f"close_rate {g['close_rate']} != {e['close_rate']}")
        d = abs(float(g["profit_ratio"]) - e["profit_ratio"])
        worst = max(worst, d)
        worst_additive = max(worst_additive, abs(float(g["profit_ratio"]) - e["net_additive"]))
        if d > a.tolerance:
            diffs.append(f"profit_ratio {g['profit_ratio']} vs {e['profit_ratio']} (|d|={d:.3g})")
        if diffs:
            problems.append(f"{label}: " + "; ".join(diffs))
        else:
            matched += 1
    for g in got_by.values():
        problems.append(f"freqtrade trade not in the rule: {g['pair']} {g['open_date']} "
                        f"short={g['is_short']} ({g['exit_reason']})")

    complete = sum(e["complete"] for e in expected)
    compounded = 1.0
    for e in expected:
        if e["complete"]:
            compounded *= 1 + e["profit_ratio"]
    report = {
        "expected_positions": len(expected),
        "complete": complete,
        "incomplete": len(expected) - complete,
        "matched": matched,
        "shorts": sum(e["is_short"] for e in expected if e["complete"]),
        "problems": problems,
        "max_abs_profit_ratio_diff": worst,
        "tolerance": a.tolerance,
        "max_abs_diff_vs_additive_costs": worst_additive,
        "compounded_return_of_complete_positions": compounded - 1,
        "cost_per_side": cost,
    }
    if a.report:
        Path(a.report).write_text(json.dumps(report, indent=1, default=str))
    print(f"[check] {matched}/{complete} complete positions match freqtrade exactly "
          f"(times, direction, rates; max |profit_ratio diff| {worst:.3g} <= {a.tolerance}); "
          f"{len(expected) - complete} incomplete; {len(problems)} problems")
    print(f"[check] freqtrade's ratio vs the additive 'gross - 2*cost' convention: "
          f"max |diff| {worst_additive:.3g}")
    for p in problems[:20]:
        print("  - " + p)
    sys.exit(1 if problems or matched != complete else 0)


if __name__ == "__main__":
    main()
