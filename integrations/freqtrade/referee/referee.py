#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The referee's driver: backtest a coincast signal CSV with freqtrade, offline, and export trades.

Run it through run.sh (which makes the pinned venv). Steps, each timed:
  0. candles (with --candles): the candle files given (freqtrade JSON or feather, any name
     starting BASE_QUOTE-<tf>) staged into OUT/candles in freqtrade's layout (candles.py);
  1. exchangeInfo: a generated Binance market list for the pairs (make_exchange_info.py);
  2. config: a freqtrade config for the CoincastSignals strategy (written to OUT/config.json);
  3. backtest: `freqtrade backtesting` through offline.py (no network);
  4. export: freqtrade's trades to OUT/trades.csv and OUT/trades.json (export_trades.py);
  5. check (with --check): an independent computation of the fill rule from the same candles and
     signals (check_fill_rule.py), compared trade by trade with freqtrade's.

Modes: `spot` (long-only: SHORT signals are skipped) and `futures` (long and short, 1x isolated).
In futures mode the given candles are used as the perpetual's own candles (freqtrade reads
DATADIR/futures/<BASE>_<QUOTE>_<QUOTE>-<tf>-futures.feather; the referee links the spot files
there in a scratch folder) and funding is zero: it checks the fill rule's arithmetic for shorts on
those prices, not what a real perpetual would have earned.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STRATEGIES = HERE.parent / "strategies"


class Timer:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []

    def run(self, name: str, fn, *a, **kw):
        t0 = time.monotonic()
        out = fn(*a, **kw)
        dt = time.monotonic() - t0
        self.steps.append((name, dt))
        print(f"[referee] {name}: {dt:.1f} s", flush=True)
        return out


def pairs_in(signal_file: Path, horizon: str) -> list[str]:
    with signal_file.open(newline="") as fh:
        return sorted({r["pair"] for r in csv.DictReader(fh) if r["horizon"] == horizon})


def scratch_futures_datadir(datadir: Path, pairs: list[str], tf: str, out: Path,
                            ext: str = "feather") -> Path:
    """OUT/data/futures/<B>_<Q>_<Q>-<tf>-futures.<ext> -> the spot candle files (symlinks)."""
    fut = out / "data" / "futures"
    fut.mkdir(parents=True, exist_ok=True)
    for pair in pairs:
        base, quote = pair.split("/")
        src = (datadir / f"{base}_{quote}-{tf}.{ext}").resolve()
        if not src.exists():
            sys.exit(f"referee: no candles for {pair}: {src}")
        dst = fut / f"{base}_{quote}_{quote}-{tf}-futures.{ext}"
        if dst.is_symlink() or dst.exists():
            dst.unlink()
        dst.symlink_to(src)
    return out / "data"


def make_config(a, pairs: list[str], datadir: Path, out: Path, dataformat: str = "feather"
                ) -> Path:
    futures = a.mode == "futures"
    fee = (a.fee_bps + a.slippage_bps) / 10_000.0
    whitelist = [f"{p}:{p.split('/')[1]}" if futures else p for p in pairs]
    cfg = {
        "$comment": "Written by integrations/freqtrade/referee/referee.py for one offline backtest.",
        "strategy": "CoincastSignals",
        "strategy_path": str(STRATEGIES),
        "timeframe": a.timeframe,
        "trading_mode": "futures" if futures else "spot",
        "stake_currency": "USDT",
        # A fixed stake per position and a wallet that never runs short: every position the fill
        # rule opens can be opened, whatever came before (profit ratios do not depend on it).
        "stake_amount": 1000,
        "dry_run": True,
        "dry_run_wallet": 1_000_000_000,
        "max_open_trades": -1,
        "fee": fee,
        "position_stacking": True,
        "dataformat_ohlcv": dataformat,
        "datadir": str(datadir),
        "user_data_dir": str(out / "user_data"),
        "exchange": {
            "name": "binance",
            "key": "",
            "secret": "",
            "pair_whitelist": whitelist,
            "pair_blacklist": [],
            "ccxt_config": {
                "options": {"fetchMarkets": {"types": ["linear"] if futures else ["spot"]}}
            },
        },
        "pairlists": [{"method": "StaticPairList"}],
        # Unused by a backtest (it fills at candle opens), but validated at start; freqtrade's
        # Binance futures has no ticker pricing, so the order book is named for both modes.
        "entry_pricing": {"price_side": "other", "use_order_book": True, "order_book_top": 1},
        "exit_pricing": {"price_side": "other", "use_order_book": True, "order_book_top": 1},
        "coincast": {
            "signal_file": str(Path(a.signals).resolve()),
            "horizon": a.horizon,
            "min_confidence": a.min_confidence,
        },
        "internals": {"process_throttle_secs": 5},
    }
    if futures:
        cfg["margin_mode"] = "isolated"
        cfg["futures_funding_rate"] = 0
    path = out / "config.json"
    path.write_text(json.dumps(cfg, indent=2))
    return path


def sh(cmd: list[str], env: dict | None = None, log: Path | None = None) -> None:
    print("[referee] $ " + " ".join(cmd), flush=True)
    if log is None:
        subprocess.run(cmd, check=True, env=env)
        return
    with log.open("w") as fh:
        p = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if p.returncode:
        sys.stdout.write(log.read_text()[-6000:])
        sys.exit(f"referee: command failed ({p.returncode}); full log in {log}")


def main() -> None:
    ap = argparse.ArgumentParser(description="Backtest a coincast signal CSV with freqtrade, offline.")
    ap.add_argument("--signals", required=True, type=Path, help="coincast signal CSV")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--datadir", type=Path,
                     help="folder of freqtrade feather candles, <BASE>_<QUOTE>-<tf>.feather")
    src.add_argument("--candles", action="append", metavar="[PAIR=]FILE",
                     help="a candle file, freqtrade JSON ([[ms, o, h, l, c, v], ...]) or feather; "
                          "pair and timeframe from the name (BTC_USDT-5m-2025-06.json), or "
                          "PAIR=FILE; repeat for more pairs")
    ap.add_argument("--candles-format", choices=["feather", "json"], default="feather",
                    help="with --candles, the format freqtrade reads: feather (converted from "
                         "the exact values) or json (freqtrade's JSON reader) [feather]")
    ap.add_argument("--out", required=True, type=Path, help="output folder (created)")
    ap.add_argument("--horizon", default="1h", choices=["30m", "1h", "2h", "4h", "6h", "12h"])
    ap.add_argument("--timeframe", help="5m unless --candles names say otherwise")
    ap.add_argument("--mode", default="spot", choices=["spot", "futures"],
                    help="spot: long-only (SHORT skipped); futures: long and short at 1x")
    ap.add_argument("--pairs", nargs="*", help="default: every pair of the horizon in the CSV")
    ap.add_argument("--fee-bps", type=float, default=10.0, help="fee per side [10]")
    ap.add_argument("--slippage-bps", type=float, default=0.0,
                    help="slippage per side, added to the fee [0]")
    ap.add_argument("--min-confidence", type=float, default=0.0)
    ap.add_argument("--timerange", help="freqtrade --timerange, e.g. 20240301-20240401")
    ap.add_argument("--check", action="store_true",
                    help="also recompute the fill rule independently and compare")
    ap.add_argument("--tolerance", type=float, default=1e-9,
                    help="largest allowed |profit_ratio difference| in --check [1e-9]")
    a = ap.parse_args()

    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if not a.signals.is_file():
        sys.exit(f"referee: no such signal file: {a.signals}")
    py = sys.executable
    t = Timer()
    dataformat = "feather"
    signal_pairs = pairs_in(a.signals, a.horizon)
    if a.candles:
        import candles

        datadir, ft_datadir, candle_pairs, a.timeframe = t.run(
            "candles", candles.stage, a.candles, a.timeframe, out, a.candles_format)
        dataformat = a.candles_format
        pairs = a.pairs or candle_pairs
        missing = sorted(set(pairs) - set(candle_pairs))
        if missing:
            sys.exit(f"referee: --pairs {missing} have no --candles file")
        ignored = sorted(set(signal_pairs) - set(pairs))
        if ignored:
            print(f"[referee] signals of {ignored} ignored: no candles given", flush=True)
    else:
        a.timeframe = a.timeframe or "5m"
        datadir = ft_datadir = a.datadir.resolve()
        pairs = a.pairs or signal_pairs
    if not pairs:
        sys.exit(f"referee: no signals of horizon {a.horizon} in {a.signals}")

    if a.mode == "futures":
        ft_datadir = scratch_futures_datadir(ft_datadir, pairs, a.timeframe, out, dataformat)
    xinfo = out / "exchange-info"
    t.run("exchangeInfo", sh, [py, str(HERE / "make_exchange_info.py"), "--datadir", str(datadir),
                               "--timeframe", a.timeframe, "--out", str(xinfo), "--pairs", *pairs]
          + (["--futures"] if a.mode == "futures" else []))
    config = t.run("config", make_config, a, pairs, ft_datadir, out, dataformat)

    results = out / "user_data" / "backtest_results"
    results.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, COINCAST_REFEREE_EXCHANGE_INFO=str(xinfo))
    cmd = [py, str(HERE / "offline.py"), "backtesting", "--config", str(config),
           "--strategy", "CoincastSignals", "--eps", "--cache", "none", "--export", "trades",
           "--backtest-directory", str(results), "--datadir", str(ft_datadir)]
    if a.timerange:
        cmd += ["--timerange", a.timerange]
    t.run("backtest", sh, cmd, env, out / "freqtrade.log")

    t.run("export", sh, [py, str(HERE / "export_trades.py"), "--results", str(results),
                         "--out", str(out)])
    if a.check:
        cmd = [py, str(HERE / "check_fill_rule.py"), "--signals", str(a.signals),
               "--datadir", str(datadir), "--timeframe", a.timeframe, "--horizon", a.horizon,
               "--mode", a.mode, "--fee-bps", str(a.fee_bps),
               "--slippage-bps", str(a.slippage_bps), "--min-confidence", str(a.min_confidence),
               "--trades", str(out / "trades.csv"), "--tolerance", str(a.tolerance),
               "--report", str(out / "check.json"), "--pairs", *pairs]
        if a.timerange:
            cmd += ["--timerange", a.timerange]
        t.run("check", sh, cmd)
    (out / "timings.json").write_text(json.dumps(dict(t.steps), indent=1))
    print(f"[referee] done: {out / 'trades.csv'}")


if __name__ == "__main__":
    main()
