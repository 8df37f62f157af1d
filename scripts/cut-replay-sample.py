#!/usr/bin/env python3
"""Cuts the bundled replay sample (server/replay/binance-5m-2025-06.csv.gz and
markets-2025-06.csv.gz) from ../shared/data, unchanged except for the format.

One-off provenance script (needs pyarrow: `pip install pyarrow`); the repo carries its output.
Candles: the Binance 5-minute candles of the ten default coins, 2025-06-01 00:00 to
2025-06-15 23:55 UTC, as `coin,ts,open,high,low,close,volume` (ts: the candle's open, Unix
seconds). Markets: the daily closes of gold (GC=F), the S&P 500 (SPY), oil (CL=F) and MSCI World
(URTH) from 2025-04-15 to 2025-06-15, as `series,ts,value` (ts: the day's 00:00 UTC).
"""
import csv, datetime, gzip, io, sys
from pathlib import Path
import pyarrow.feather as feather

DATA = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = Path(__file__).resolve().parent.parent / "server" / "replay"
COINS = ["BTC", "ETH", "SOL", "XRP", "LTC", "DOGE", "ADA", "BCH", "LINK", "AVAX"]
FOLDERS = ["binance-5m-14pairs-2024-12_2025-06", "binance-5m-19pairs-2025-01_2025-06"]
FROM = int(datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc).timestamp())
TO = int(datetime.datetime(2025, 6, 16, tzinfo=datetime.timezone.utc).timestamp())
MARKETS = [("gold", "GC=F"), ("sp500", "SPY"), ("oil", "CL=F"), ("msci_world", "URTH")]
MARKETS_FROM = datetime.date(2025, 4, 15)


def fmt(x):
    return repr(float(x))


def candles():
    out = io.StringIO()
    out.write("coin,ts,open,high,low,close,volume\n")
    for coin in COINS:
        path = next(DATA / f / f"{coin}_USDT-5m.feather" for f in FOLDERS if (DATA / f / f"{coin}_USDT-5m.feather").exists())
        table = feather.read_table(path)
        cols = {n: table.column(n).to_pylist() for n in ["date", "open", "high", "low", "close", "volume"]}
        n = 0
        for i, d in enumerate(cols["date"]):
            ts = int(d.timestamp())
            if FROM <= ts < TO:
                row = [coin, str(ts)] + [fmt(cols[k][i]) for k in ["open", "high", "low", "close", "volume"]]
                out.write(",".join(row) + "\n")
                n += 1
        assert n == (TO - FROM) // 300, f"{coin}: {n} candles"
    return out.getvalue()


def markets():
    out = io.StringIO()
    out.write("series,ts,value\n")
    end = datetime.date(2025, 6, 15)
    for name, ticker in MARKETS:
        with open(DATA / "macro-daily-yahoo" / f"{ticker}.csv") as f:
            for row in csv.DictReader(f):
                day = datetime.date.fromisoformat(row["Date"][:10])
                if MARKETS_FROM <= day <= end and row["Close"]:
                    ts = int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp())
                    out.write(f"{name},{ts},{row['Close']}\n")
    return out.getvalue()


for name, text in [("binance-5m-2025-06.csv.gz", candles()), ("markets-2025-06.csv.gz", markets())]:
    with gzip.GzipFile(OUT / name, "wb", mtime=0) as f:
        f.write(text.encode())
    print(name, len(text.splitlines()) - 1, "rows")
