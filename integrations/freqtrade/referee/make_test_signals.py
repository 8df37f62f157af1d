#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make a test signal CSV from real candles with a trivial rule (not a coincast model).

Every hour H (on the hour) of the span, for each pair: the sign of the last hour's return, read
from the 5-minute candles that had closed by H (the close of the candle opening at H-5m over the
close of the candle opening at H-65m). Up -> LONG, down -> SHORT, unchanged -> FLAT; confidence
= min(1, |return| * 50) (a 1% move is confidence 0.5). Published at H + offset (default 5 s, so
the entry is the candle opening at H+5m; --offset-s 0 exercises the "at or after" boundary: the
entry is then the candle opening at H itself). One row per pair, hour and --horizons value.

--cadence 5m stresses the "newest signal per candle" part of the rule: at every 5-minute boundary
B it publishes two rows per pair, at B+65 s the sign of the last 5-minute candle's return (close
over open of the candle opening at B-5m) and at B+185 s the sign of the last hour's return (as
above). Both fall before the candle opening at B+5m, so only the second one counts.

Usage: make_test_signals.py --datadir DIR --pairs BTC/USDT --start 2024-03-01 --end 2024-04-01
       --horizons 1h --out signals.csv
   or: make_test_signals.py --candles server/tests/fixtures/BTC_USDT-5m-2025-06.json
       --start 2025-06-21 --end 2025-07-01 --horizons 1h --out signals.csv
(--candles [PAIR=]FILE, repeatable: freqtrade JSON or feather, pair from the name; see candles.py)
"""

from __future__ import annotations

import argparse
import csv
from datetime import timedelta

import pandas as pd
from pyarrow import feather


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--datadir")
    src.add_argument("--candles", action="append", metavar="[PAIR=]FILE")
    ap.add_argument("--pairs", nargs="+", help="required with --datadir; default the --candles")
    ap.add_argument("--start", required=True, help="first hour, UTC (YYYY-MM-DD[THH:MM])")
    ap.add_argument("--end", required=True, help="end, UTC, exclusive")
    ap.add_argument("--horizons", nargs="+", default=["1h"])
    ap.add_argument("--offset-s", type=float, default=5.0)
    ap.add_argument("--cadence", choices=["1h", "5m"], default="1h")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    start = pd.Timestamp(a.start, tz="UTC")
    end = pd.Timestamp(a.end, tz="UTC")
    files = {}
    if a.candles:
        import candles

        files = {f.pair: f.path for f in map(candles.parse_spec, a.candles)}
        a.pairs = a.pairs or list(files)
    elif not a.pairs:
        ap.error("--pairs is required with --datadir")
    rows = []
    for pair in a.pairs:
        base, quote = pair.split("/")
        if files:
            df = candles.read(files[pair])
        else:
            df = feather.read_table(f"{a.datadir}/{base}_{quote}-5m.feather").to_pandas()
        close = df.set_index("date")["close"]
        opens = df.set_index("date")["open"]
        five = pd.Timedelta(minutes=5)

        def emit(pub, ret, pair=pair):
            sig = "LONG" if ret > 0 else "SHORT" if ret < 0 else "FLAT"
            conf = min(1.0, abs(ret) * 50.0)
            stamp = pub.strftime("%Y-%m-%dT%H:%M:%S")
            if pub.microsecond:
                stamp += f".{pub.microsecond:06d}"
            for hz in a.horizons:
                rows.append((stamp + "Z", pair, hz, sig, f"{conf:.4f}"))

        h = start
        while h < end:
            last = close.get(h - five)
            prev = close.get(h - pd.Timedelta(minutes=65))
            if a.cadence == "1h":
                if last is not None and prev is not None:
                    emit(h + timedelta(seconds=a.offset_s), last / prev - 1.0)
                h += pd.Timedelta(hours=1)
                continue
            first = opens.get(h - five)
            if last is not None and first is not None:
                emit(h + timedelta(seconds=65), last / first - 1.0)
            if last is not None and prev is not None:
                emit(h + timedelta(seconds=185), last / prev - 1.0)
            h += five
    rows.sort()
    with open(a.out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["published_at", "pair", "horizon", "signal", "confidence"])
        w.writerows(rows)
    print(f"{len(rows)} signals written to {a.out}")


if __name__ == "__main__":
    main()
