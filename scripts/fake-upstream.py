#!/usr/bin/env python3
"""A local stand-in for the live sources, for trying `coincast serve` (live mode) with no internet.

It speaks each source's real format and serves only real recorded data from this repository:
- Bitstamp /api/v2/ohlc/{pair}/: the bundled replay sample's minute candles (server/replay/), shifted
  so that its newest minute is the last completed minute (honours step=60, limit, start);
- mempool.space /api/mempool: the recorded answer (server/tests/fixtures/upstream/);
- blockchain.info /charts/transactions-per-second: the recorded week, shifted to end now;
- Yahoo /v8/finance/chart/GC=F: the recorded answer (2020: its data is old, and coincast says so);
- anything else: 404 (coincast reports those sources as failing).

Usage: scripts/fake-upstream.py [PORT]   (default 8099), then start coincast with
  COINCAST__UPSTREAM__BITSTAMP=http://127.0.0.1:8099 (and MEMPOOL, BLOCKCHAIN, BITINFOCHARTS, YAHOO).
"""
import gzip
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "server/tests/fixtures/upstream"
PAIRS = {"btcusd": "BTC", "ltcusd": "LTC", "xrpusd": "XRP"}

candles = {}
with gzip.open(ROOT / "server/replay/binance-1m-2021-05.csv.gz", "rt") as f:
    next(f)
    for line in f:
        coin, ts, o, h, l, c, v = line.strip().split(",")
        candles.setdefault(coin, []).append((int(ts), o, h, l, c, v))
tps = json.loads((FIX / "blockchain_transactions_per_second.json").read_text())


def shift_for(rows):
    now_minute = int(time.time()) // 60 * 60
    return now_minute - 60 - rows[-1][0]


class Handler(BaseHTTPRequestHandler):
    def send(self, code, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if url.path.startswith("/api/v2/ohlc/") and len(parts) >= 4 and parts[3] in PAIRS:
            rows = candles[PAIRS[parts[3]]]
            shift = shift_for(rows)
            limit = max(1, min(1000, int(q.get("limit", "1000"))))
            start = int(q["start"]) if "start" in q else None
            shown = [r for r in rows if start is None or r[0] + shift >= start]
            shown = shown[:limit] if start is not None else shown[-limit:]
            ohlc = [dict(timestamp=str(r[0] + shift), open=r[1], high=r[2], low=r[3], close=r[4], volume=r[5])
                    for r in shown]
            return self.send(200, json.dumps({"data": {"pair": PAIRS[parts[3]] + "/USD", "ohlc": ohlc}}))
        if url.path == "/api/mempool":
            return self.send(200, (FIX / "mempool_api_mempool.json").read_bytes())
        if url.path == "/charts/transactions-per-second":
            last = tps["values"][-1]["x"]
            shift = int(time.time()) // 900 * 900 - last
            body = dict(tps, values=[{"x": p["x"] + shift, "y": p["y"]} for p in tps["values"]])
            return self.send(200, json.dumps(body))
        if url.path == "/v8/finance/chart/GC=F":
            return self.send(200, (FIX / "yahoo_chart_gc_f.json").read_bytes())
        return self.send(404, '{"error": "not recorded"}')

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-upstream: " + fmt % args + "\n")


port = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
print(f"fake upstream on http://127.0.0.1:{port}", flush=True)
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
