# SPDX-License-Identifier: GPL-3.0-or-later
"""The referee's offline wrapper: Binance's market list from files, every other request refused.

Runs in a child process, since offline.install() patches ccxt and sockets for good.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

REFEREE = Path(__file__).resolve().parent.parent / "referee"

CHILD = textwrap.dedent("""
    import asyncio, json, socket, sys
    sys.path.insert(0, sys.argv[1])
    import offline
    offline.install()
    import ccxt, ccxt.async_support
    out = {}
    ex = ccxt.binance({"options": {"fetchMarkets": {"types": ["spot"]}}})
    out["sync_markets"] = sorted(ex.load_markets())
    async def go():
        ax = ccxt.async_support.binance({"options": {"fetchMarkets": {"types": ["linear"]}}})
        try:
            m = await ax.load_markets()
            out["async_markets"] = sorted(m)
            try:
                await ax.fetch_ticker("BTC/USDT:USDT")
            except ccxt.BaseError as e:
                out["ticker_error"] = str(e)
        finally:
            await ax.close()
    asyncio.run(go())
    try:
        socket.create_connection(("8.8.8.8", 53), timeout=2)
    except OSError as e:
        out["socket_error"] = str(e)
    print(json.dumps(out))
""")


class Offline(unittest.TestCase):
    def test_markets_from_files_and_nothing_else(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, str(REFEREE / "make_exchange_info.py"), "--datadir",
                 str(REFEREE / "fixtures"), "--pairs", "BTC/USDT", "XRP/USDT", "--out", tmp,
                 "--futures"], check=True, capture_output=True)
            spot = json.loads((Path(tmp) / "exchangeInfo-spot.json").read_text())
            btc = spot["symbols"][0]
            self.assertEqual((btc["symbol"], btc["status"]), ("BTCUSDT", "TRADING"))
            ticks = {f["filterType"]: f for f in btc["filters"]}
            self.assertEqual(ticks["PRICE_FILTER"]["tickSize"], "0.01000000")
            self.assertIn("NOTIONAL", ticks)
            env = dict(os.environ, COINCAST_REFEREE_EXCHANGE_INFO=tmp)
            p = subprocess.run([sys.executable, "-c", CHILD, str(REFEREE)], env=env,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["sync_markets"], ["BTC/USDT", "XRP/USDT"])
        self.assertEqual(out["async_markets"], ["BTC/USDT:USDT", "XRP/USDT:USDT"])
        self.assertIn("offline", out["ticker_error"])
        self.assertIn("offline", out["socket_error"])


if __name__ == "__main__":
    unittest.main()
