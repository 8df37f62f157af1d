#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Candle files for the referee: freqtrade JSON or feather, named after their pair and timeframe.

freqtrade's two usual candle formats are accepted:
  - JSON (`dataformat_ohlcv: json`, also `.json.gz`): a list of rows
    `[open time in ms since the epoch (UTC), open, high, low, close, volume]`;
  - feather: columns `date` (UTC timestamp), open, high, low, close, volume.

A file's pair and timeframe come from its name, as in freqtrade's layout
(`BTC_USDT-5m.json`) or with a suffix after the timeframe (`BTC_USDT-5m-2025-06.json`):
everything up to the first `_` is the base, up to the next `-` the quote, then the timeframe.
An explicit `PAIR=FILE` overrides the name (`BTC/USDT=some/file.json`).

JSON numbers are parsed with Python's `json` module, which rounds each decimal correctly to the
nearest double (as Rust's `str::parse::<f64>` and serde_json do for such prices), so a candle's
price here is exactly the double the file's text denotes.

`stage()` writes the files given into a datadir in freqtrade's layout
(`<BASE>_<QUOTE>-<tf>.feather`, the format the referee's own tools read) and, for
`--candles-format json`, a second one with the JSON files as freqtrade reads them.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pyarrow import feather

COLUMNS = ["date", "open", "high", "low", "close", "volume"]
NAME = re.compile(r"^(?P<base>[A-Za-z0-9]+)_(?P<quote>[A-Za-z0-9]+)-(?P<tf>\d+[smhdwM])(?:[-.].*)?$")
PAIR = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9]+$")
TF_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000}


@dataclass
class CandleFile:
    path: Path
    pair: str  # BTC/USDT
    timeframe: str | None  # from the name; None when the name does not say
    fmt: str  # json | jsongz | feather


def fmt_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".json.gz"):
        return "jsongz"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".feather"):
        return "feather"
    sys.exit(f"referee: {path}: not a freqtrade candle file (.json, .json.gz or .feather)")


def parse_spec(spec: str) -> CandleFile:
    """`FILE` or `PAIR=FILE` (PAIR like BTC/USDT)."""
    pair = None
    head, sep, tail = spec.partition("=")
    if sep and PAIR.match(head):
        pair, spec = head.upper(), tail
    path = Path(spec)
    if not path.is_file():
        sys.exit(f"referee: no such candle file: {path}")
    m = NAME.match(path.name)
    tf = m["tf"] if m else None
    if pair is None:
        if not m:
            sys.exit(f"referee: cannot tell the pair from the name {path.name!r} (expected "
                     "BASE_QUOTE-<tf>..., e.g. BTC_USDT-5m-2025-06.json); pass PAIR=FILE")
        pair = f"{m['base'].upper()}/{m['quote'].upper()}"
    return CandleFile(path=path, pair=pair, timeframe=tf, fmt=fmt_of(path))


def timeframe_seconds(tf: str) -> int:
    m = re.fullmatch(r"(\d+)([smhdwM])", tf)
    if not m:
        sys.exit(f"referee: not a timeframe: {tf!r}")
    return int(m[1]) * TF_UNIT_S[m[2]]


def read(path: Path) -> pd.DataFrame:
    """The candles of one file, columns COLUMNS, date as datetime64[ns, UTC], exact doubles."""
    f = fmt_of(path)
    if f == "feather":
        df = feather.read_table(path).to_pandas()
        missing = [c for c in COLUMNS if c not in df.columns]
        if missing:
            sys.exit(f"referee: {path}: missing columns {missing}")
        df = df[COLUMNS].copy()
        df["date"] = pd.to_datetime(df["date"], utc=True).astype("datetime64[ns, UTC]")
    else:
        opener = gzip.open if f == "jsongz" else open
        with opener(path, "rt") as fh:
            rows = json.load(fh)
        if not isinstance(rows, list) or not rows:
            sys.exit(f"referee: {path}: expected a non-empty JSON list of candle rows")
        for i, r in enumerate(rows):
            if (not isinstance(r, list) or len(r) != 6 or not isinstance(r[0], int)
                    or isinstance(r[0], bool)
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                               for x in r[1:])):
                sys.exit(f"referee: {path}: row {i} is not [ms, open, high, low, close, volume]: "
                         f"{str(r)[:120]}")
        df = pd.DataFrame(rows, columns=COLUMNS)
        for c in COLUMNS[1:]:
            df[c] = df[c].astype("float64")
        df["date"] = pd.to_datetime(df["date"], unit="ms", utc=True).astype("datetime64[ns, UTC]")
    return df


def check(df: pd.DataFrame, path: Path, tf: str) -> None:
    """Sorted, unique open times on the timeframe's grid (gaps allowed), finite prices."""
    if df.empty:
        sys.exit(f"referee: {path}: no candles")
    d = df["date"]
    if not d.is_monotonic_increasing or d.duplicated().any():
        sys.exit(f"referee: {path}: candle times are not strictly increasing")
    step = pd.Timedelta(seconds=timeframe_seconds(tf))
    off = (d - d.iloc[0]) % step
    if (off != pd.Timedelta(0)).any():
        bad = d[off != pd.Timedelta(0)].iloc[0]
        sys.exit(f"referee: {path}: candle at {bad} is off the {tf} grid (wrong timeframe?)")
    prices = df[["open", "high", "low", "close"]]
    if not prices.notna().all().all() or (prices <= 0).any().any():
        sys.exit(f"referee: {path}: missing, zero or negative prices")


def resolve_timeframe(files: list[CandleFile], explicit: str | None) -> str:
    named = {f.timeframe for f in files if f.timeframe}
    if explicit:
        if named - {explicit}:
            sys.exit(f"referee: --timeframe {explicit} but the candle files are named "
                     f"{sorted(named)}")
        return explicit
    if len(named) > 1:
        sys.exit(f"referee: candle files of several timeframes: {sorted(named)}")
    return named.pop() if named else "5m"


def stage(specs: list[str], explicit_tf: str | None, out: Path, ft_format: str
          ) -> tuple[Path, Path, list[str], str]:
    """Write the candle files given into OUT/candles (feather; read by the referee's tools) and,
    for ft_format json, OUT/candles-json (JSON; read by freqtrade). Returns (tools datadir,
    freqtrade datadir, pairs, timeframe)."""
    files = [parse_spec(s) for s in specs]
    tf = resolve_timeframe(files, explicit_tf)
    pairs = [f.pair for f in files]
    dup = {p for p in pairs if pairs.count(p) > 1}
    if dup:
        sys.exit(f"referee: several candle files for {sorted(dup)}")
    tools_dir = out / "candles"
    ft_dir = out / "candles-json" if ft_format == "json" else tools_dir
    for d in {tools_dir, ft_dir}:
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    for f in files:
        df = read(f.path)
        check(df, f.path, tf)
        base, quote = f.pair.split("/")
        stem = f"{base}_{quote}-{tf}"
        feather.write_feather(df.reset_index(drop=True), tools_dir / f"{stem}.feather",
                              compression="lz4")
        if ft_format == "json":
            dst = ft_dir / f"{stem}.json"
            if f.fmt == "json":
                shutil.copyfile(f.path, dst)
            else:  # write freqtrade's JSON rows; repr of a double is its shortest round trip
                rows = [[int(t.value // 1_000_000), *map(float, r)] for t, r in
                        zip(df["date"], df[COLUMNS[1:]].itertuples(index=False))]
                dst.write_text(json.dumps(rows, separators=(",", ":")))
            same_as_freqtrade_reads(df, dst)
        print(f"[referee] candles: {f.pair} {tf}: {len(df)} from {f.path} "
              f"({df['date'].iloc[0]:%Y-%m-%d %H:%M} .. {df['date'].iloc[-1]:%Y-%m-%d %H:%M} UTC)"
              f" -> {ft_dir / (stem + ('.json' if ft_format == 'json' else '.feather'))}",
              flush=True)
    return tools_dir, ft_dir, pairs, tf


def same_as_freqtrade_reads(exact: pd.DataFrame, path: Path) -> None:
    """freqtrade reads JSON candles with pandas' read_json, whose default float parser is not
    always correctly rounded (on BTC_USDT-5m-2025-06.json it misreads 41 of 2880 volumes by one
    unit in the last place, e.g. 14.39778 as 14.397780000000001, and no price). Refuse a file
    where freqtrade would see other open times or prices than the exact ones (use
    --candles-format feather then); volumes do not enter the fill rule."""
    got = pd.read_json(path, orient="values")
    cols = ["open", "high", "low", "close"]
    a = got.iloc[:, 1:5].to_numpy(dtype="float64")
    b = exact[cols].to_numpy(dtype="float64")
    t = pd.to_datetime(got.iloc[:, 0], unit="ms", utc=True).astype("datetime64[ns, UTC]")
    if a.shape != b.shape or (a != b).any() or (t.to_numpy() != exact["date"].to_numpy()).any():
        sys.exit(f"referee: freqtrade's JSON reader (pandas read_json) parses {path} to other "
                 "times or prices than the exact ones; use --candles-format feather")
