#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cut a span of freqtrade feather candles into a new file, values unchanged (used for fixtures/).

Usage: cut_candles.py SRC.feather DST.feather --start 2024-03-01 --end 2024-03-08
Keeps the rows with start <= date < end (UTC), whole rows, same columns, lz4 like freqtrade.
"""

from __future__ import annotations

import argparse

import pandas as pd
import pyarrow.compute as pc
from pyarrow import feather


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    a = ap.parse_args()
    t = feather.read_table(a.src)
    start = pd.Timestamp(a.start, tz="UTC")
    end = pd.Timestamp(a.end, tz="UTC")
    mask = pc.and_(pc.greater_equal(t["date"], start), pc.less(t["date"], end))
    cut = t.filter(mask).replace_schema_metadata(None)
    feather.write_feather(cut, a.dst, compression="lz4")
    print(f"{cut.num_rows} candles {a.src} -> {a.dst}")


if __name__ == "__main__":
    main()
