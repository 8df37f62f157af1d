#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run freqtrade with no network: Binance's market list comes from local files.

freqtrade loads the exchange's markets when it starts, even for a backtest, and has no option to
read them from a file. This wrapper answers those requests itself and then calls freqtrade's own
`main()` with the remaining arguments, unchanged:

- ccxt's one HTTP entry point, `Exchange.fetch` (sync and async), is replaced: a request whose
  path ends in `/api/v3/exchangeInfo` (spot) or `/fapi/v1/exchangeInfo` (USD-M futures) gets the
  JSON in `$COINCAST_REFEREE_EXCHANGE_INFO/exchangeInfo-{spot,fapi}.json`; `/dapi/v1/exchangeInfo`
  (COIN-M) gets an empty list of symbols. Any other request fails with an error naming its URL,
  so a new call made by a future freqtrade shows up at once instead of hanging.
- As a second guard, sockets may only connect to loopback or local (AF_UNIX) addresses: the run
  is offline by construction, not by luck.

Patching at `fetch` rather than pointing `exchange.ccxt_config.urls` at a local server avoids
knowing ccxt's many Binance url keys (api.public, api.sapi, fapiPublic, ...) and needs no server.

Usage: COINCAST_REFEREE_EXCHANGE_INFO=DIR python offline.py backtesting --config ... (any
freqtrade sub-command and arguments).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

ENV_DIR = "COINCAST_REFEREE_EXCHANGE_INFO"

ROUTES = {
    "/api/v3/exchangeInfo": "exchangeInfo-spot.json",
    "/fapi/v1/exchangeInfo": "exchangeInfo-fapi.json",
}
EMPTY = {"/dapi/v1/exchangeInfo": {"timezone": "UTC", "symbols": []}}
# More answers for tests (path suffix -> function of the URL returning the decoded JSON), e.g.
# the dry-run smoke test's klines and order book. A backtest needs none.
EXTRA_ROUTES: dict = {}


def _answer(url: str):
    import ccxt

    path = urlsplit(url).path
    for suffix, fn in EXTRA_ROUTES.items():
        if path.endswith(suffix):
            return fn(url)
    for suffix, name in ROUTES.items():
        if path.endswith(suffix):
            folder = Path(os.environ[ENV_DIR])
            return json.loads((folder / name).read_text())
    for suffix, body in EMPTY.items():
        if path.endswith(suffix):
            return body
    raise ccxt.ExchangeNotAvailable(f"coincast referee is offline: refused request to {url}")


def _guard_sockets() -> None:
    real_connect = socket.socket.connect

    def connect(self, address):
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        host = address[0] if isinstance(address, tuple) else str(address)
        if host in ("localhost", "::1") or host.startswith("127."):
            return real_connect(self, address)
        raise OSError(f"coincast referee is offline: refused connection to {address!r}")

    socket.socket.connect = connect  # type: ignore[method-assign]


def install() -> None:
    if ENV_DIR not in os.environ:
        sys.exit(f"offline.py: set {ENV_DIR} to the folder of exchangeInfo-*.json")
    import ccxt
    import ccxt.async_support

    def fetch(self, url, method="GET", headers=None, body=None):
        return _answer(url)

    async def afetch(self, url, method="GET", headers=None, body=None):
        return _answer(url)

    # The classes every exchange (sync, async and ccxt.pro) derives its HTTP calls from.
    ccxt.Exchange.fetch = fetch
    ccxt.async_support.Exchange.fetch = afetch
    _guard_sockets()


def run_freqtrade(args: list[str]) -> None:
    install()
    from freqtrade.main import main as freqtrade_main

    sys.argv = ["freqtrade", *args]
    freqtrade_main()


def main() -> None:
    run_freqtrade(sys.argv[1:])


if __name__ == "__main__":
    main()
