#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke test of the live path inside a real freqtrade process: `freqtrade trade --dry-run` with
CoincastSignals, offline, for about a minute.

- coincast is a loopback stand-in serving /api/predictions (with an ETag): BTC LONG published
  30 s before the current candle opened (so the rule enters now), XRP LONG published 20 minutes
  ago (its entry candle has passed: no entry), LTC SHORT (not in the whitelist).
- Binance is answered by offline.py: the generated exchangeInfo, plus klines, order book and
  server time made from the fixture candles (real Binance BTC/XRP 5m candles of 2024-03-01..03,
  re-timed so that the last one is the candle open now, as coincast's replay mode does).
Passes when freqtrade opens exactly one dry-run trade, a BTC/USDT long tagged by coincast, after
one poll of /api/predictions for both pairs. Prints "dryrun smoke: 1 passed, 0 failed".

  $VENV/bin/python integrations/freqtrade/tests/dryrun_smoke.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFEREE = ROOT / "referee"
FIXTURES = REFEREE / "fixtures"
TF_MS = 300_000


# ---- child: freqtrade with a local Binance ----

def child(config: str) -> None:
    sys.path.insert(0, str(REFEREE))
    import offline
    from pyarrow import feather

    candles = {}
    for sym, name in (("BTCUSDT", "BTC_USDT"), ("XRPUSDT", "XRP_USDT")):
        t = feather.read_table(FIXTURES / f"{name}-5m.feather").to_pandas()
        candles[sym] = t[["open", "high", "low", "close", "volume"]].to_numpy().tolist()

    def retimed(sym: str) -> list[list]:
        rows = candles[sym]
        now_open = int(time.time() * 1000) // TF_MS * TF_MS
        first = now_open - (len(rows) - 1) * TF_MS
        return [[first + i * TF_MS, *r] for i, r in enumerate(rows)]

    def klines(url: str):
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        rows = retimed(q["symbol"])
        if "startTime" in q:
            rows = [r for r in rows if r[0] >= int(q["startTime"])]
        if "endTime" in q:
            rows = [r for r in rows if r[0] <= int(q["endTime"])]
        limit = int(q.get("limit", 500))
        rows = rows[:limit] if "startTime" in q else rows[-limit:]
        return [[r[0], *(f"{x}" for x in r[1:6]), r[0] + TF_MS - 1, "0", 1, "0", "0", "0"]
                for r in rows]

    def depth(url: str):
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        close = retimed(q["symbol"])[-1][4]
        return {"lastUpdateId": 1, "bids": [[f"{close}", "1000"]],
                "asks": [[f"{close}", "1000"]]}

    offline.EXTRA_ROUTES.update({
        "/api/v3/klines": klines,
        "/api/v3/uiKlines": klines,
        "/api/v3/depth": depth,
        "/api/v3/time": lambda url: {"serverTime": int(time.time() * 1000)},
    })
    offline.run_freqtrade(["trade", "--config", config, "--dry-run"])


# ---- parent ----

class FakeCoincast:
    def __init__(self, body: dict) -> None:
        self.body = body
        self.requests: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append(self.headers.get("If-None-Match"))
                etag = '"00000000000000a1"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                data = json.dumps(fake.body).encode()
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def entry(coin: str, signal: str, published: datetime) -> dict:
    z = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "coin": coin, "horizon": "1h", "cadence_minutes": 1,
        "accuracy_7d": {},
        "prediction": {
            "id": abs(hash((coin, published))) % 10**6 + 1, "coin": coin, "horizon": "1h",
            "direction": "UP" if signal == "LONG" else "DOWN", "p_up": 0.7,
            "confidence": 0.4, "signal": signal, "made_at": z(published - timedelta(seconds=5)),
            "published_at": z(published), "valid_until": z(published + timedelta(minutes=60)),
            "target_at": z(published + timedelta(hours=1)), "reference_price": 1.0,
            "model_id": f"{coin}-1h-test", "backfilled": False, "outcome": "pending",
        },
        "skill": {"beats_baseline": True},
    }


def main() -> int:
    # Start well inside a candle, so the next one does not open during the test.
    while (time.time() % 300) > 200:
        time.sleep(5)
    now = datetime.now(UTC)
    candle = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    fake = FakeCoincast({"mode": {"kind": "live"}, "predictions": [
        entry("BTC", "LONG", candle - timedelta(seconds=30)),
        entry("XRP", "LONG", candle - timedelta(minutes=20)),
        entry("LTC", "SHORT", candle - timedelta(seconds=30)),
    ]})
    tmp = Path(tempfile.mkdtemp(prefix="coincast-dryrun-"))
    xinfo = tmp / "exchange-info"
    subprocess.run([sys.executable, str(REFEREE / "make_exchange_info.py"), "--datadir",
                    str(FIXTURES), "--pairs", "BTC/USDT", "XRP/USDT", "--out", str(xinfo)],
                   check=True, capture_output=True)
    cfg = json.loads((ROOT / "examples" / "config-spot.json").read_text())
    cfg.update({
        "strategy_path": str(ROOT / "strategies"),
        "user_data_dir": str(tmp / "user_data"),
        "db_url": f"sqlite:///{tmp / 'dryrun.sqlite'}",
        "initial_state": "running",
        "internals": {"process_throttle_secs": 2},
    })
    cfg["exchange"]["pair_whitelist"] = ["BTC/USDT", "XRP/USDT"]
    cfg["exchange"]["enable_ws"] = False
    cfg["exchange"]["ccxt_config"] = {"options": {"fetchMarkets": {"types": ["spot"]}}}
    cfg["coincast"]["url"] = fake.url
    (tmp / "user_data").mkdir()
    (tmp / "config.json").write_text(json.dumps(cfg, indent=1))
    log = (tmp / "freqtrade.log").open("w")
    env = dict(os.environ, COINCAST_REFEREE_EXCHANGE_INFO=str(xinfo),
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(tmp / "config.json")],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    trades: list = []
    try:
        deadline = time.time() + 90
        while time.time() < deadline and proc.poll() is None:
            time.sleep(3)
            try:
                with sqlite3.connect(tmp / "dryrun.sqlite") as db:
                    trades = db.execute("select pair, is_short, enter_tag, open_rate, open_date "
                                        "from trades").fetchall()
            except sqlite3.Error:
                continue
            if trades:
                time.sleep(6)  # let the other pair's analysis pass too
                with sqlite3.connect(tmp / "dryrun.sqlite") as db:
                    trades = db.execute("select pair, is_short, enter_tag, open_rate, open_date "
                                        "from trades").fetchall()
                break
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    text = (tmp / "freqtrade.log").read_text()
    refused = sorted({ln.split("refused request to ")[1].split()[0] for ln in text.splitlines()
                      if "refused request to " in ln})
    problems = []
    if len(trades) != 1:
        problems.append(f"expected one trade, got {trades}")
    elif not (trades[0][0] == "BTC/USDT" and not trades[0][1] and "coincast 1h LONG" in
              (trades[0][2] or "")):
        problems.append(f"expected a coincast BTC/USDT long, got {trades[0]}")
    if len(fake.requests) != 1:
        problems.append(f"expected one poll of /api/predictions, got {len(fake.requests)}")
    print(f"dryrun smoke: trades {trades}; coincast polls {len(fake.requests)}; "
          f"refused Binance calls {refused or 'none'}; log {tmp / 'freqtrade.log'}")
    for p in problems:
        print("  - " + p)
    print(f"dryrun smoke: {0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        sys.exit(main())
