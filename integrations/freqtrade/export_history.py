#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Export a coincast deployment's published predictions as the signal CSV CoincastSignals reads.

  export_history.py --url URL [--coin C ...] [--horizon H ...] [--from T] [--to T]
                    --out signals.csv [--quote USDT] [--live-only | --all]

Pages through `GET {URL}/api/predictions/history` (every minute: `step_minutes=1`, 1000 rows a
page, following `next_cursor` until it is absent) for each coin and horizon asked (one query for
all of them when none is given) and writes

    published_at,pair,horizon,signal,confidence
    2026-12-06T05:28:05Z,BTC/USDT,1h,FLAT,0.1720237135887146

oldest first (by published_at, then made_at, coin, horizon): `published_at` RFC 3339 UTC with
`Z` (as coincast sent it, fractions kept), `pair` COIN/QUOTE, `confidence` the shortest decimal of
the double coincast sent. The file's `published_at` is when coincast published each prediction, so
a backtest of it acts as a bot polling the deployment would have (../README.md, "The fill rule").

- `--from` / `--to`: Unix seconds or RFC 3339 with an offset, passed to coincast as given
  (predictions *made* at or after `from` and before `to`, each rounded up to a whole minute by the
  server). Default: everything stored (`from` 0, `to` now).
- Only predictions that were the current one of their coin and horizon when published are
  written, i.e. what `/api/predictions` (newest `made_at` per coin and horizon) served. That
  leaves out the older rows coincast *backfills* at start-up (made from stored history, all
  published at the start-up instant): only the newest of such a batch is written, and none when
  a newer prediction had already been published. `--all` writes every row as stored;
  `--live-only` also leaves out the newest backfilled ones.
- A replaying coincast (`mode.kind` replay) is exported too, with a note on stderr: its
  predictions are about recorded history shifted to now, not about the market of their dates.

Standard library only (tested with Python 3.11). Exit status non-zero on any error (HTTP,
malformed row); the output file is written only when everything was read (a temporary file,
then renamed).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

HORIZONS = ("30m", "1h", "2h", "4h", "6h", "12h")
SIGNALS = ("LONG", "SHORT", "FLAT")
HEADER = ["published_at", "pair", "horizon", "signal", "confidence"]
PAGE = 1000
MAX_PAGES = 100_000  # a guard against a cursor that never ends


class ExportError(Exception):
    pass


def get_json(url: str, timeout: float, attempts: int = 4) -> dict:
    """GET a JSON object; retries 429/502/503/504 and connection errors a few times."""
    delay = 1.0
    for attempt in range(1, attempts + 1):
        req = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "coincast-export-history"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = json.loads(resp.read().decode("utf-8"))
            if not isinstance(body, dict):
                raise ExportError(f"{url}: the answer is not a JSON object")
            return body
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")[:500]
            if e.code in (429, 502, 503, 504) and attempt < attempts:
                wait = delay
                ra = e.headers.get("Retry-After")
                if ra and ra.isdigit():
                    wait = max(wait, float(ra))
                time.sleep(min(wait, 30.0))
                delay *= 2
                continue
            raise ExportError(f"{url}: HTTP {e.code}: {text}") from e
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            if attempt < attempts:
                time.sleep(delay)
                delay *= 2
                continue
            raise ExportError(f"{url}: {e}") from e
        except json.JSONDecodeError as e:
            raise ExportError(f"{url}: not JSON: {e}") from e
    raise AssertionError("unreachable")


def rfc3339_z(text: str) -> tuple[str, datetime]:
    """coincast's time -> (the same instant as RFC 3339 UTC ending in Z, the datetime)."""
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise ExportError(f"bad time {text!r}: {e}") from e
    if dt.tzinfo is None:
        raise ExportError(f"time without an offset: {text!r}")
    dt = dt.astimezone(timezone.utc)
    out = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        out += f".{dt.microsecond:06d}".rstrip("0")
    return out + "Z", dt


def history_rows(base: str, coin: str | None, horizon: str | None, frm: str, to: str | None,
                 timeout: float, notes: list[str]) -> list[dict]:
    params = {"step_minutes": "1", "limit": str(PAGE), "from": frm}
    if to is not None:
        params["to"] = to
    if coin:
        params["coin"] = coin
    if horizon:
        params["horizon"] = horizon
    rows: list[dict] = []
    cursor = None
    for _ in range(MAX_PAGES):
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        url = f"{base}/api/predictions/history?{urllib.parse.urlencode(q)}"
        body = get_json(url, timeout)
        preds = body.get("predictions")
        if not isinstance(preds, list):
            raise ExportError(f"{url}: the answer has no predictions list")
        kind = (body.get("mode") or {}).get("kind")
        if kind == "replay" and not any(n.startswith("replay") for n in notes):
            notes.append("replay: coincast is replaying recorded history "
                         f"({(body.get('mode') or {}).get('dataset')}): these signals are about "
                         "that recording shifted to now, not about the market of their dates")
        rows.extend(preds)
        cursor = body.get("next_cursor")
        if not cursor:
            return rows
    raise ExportError(f"more than {MAX_PAGES} pages: the cursor does not end")


def to_signal_row(p: dict, quote: str) -> tuple[tuple, list[str]]:
    try:
        pid = p["id"]
        coin = str(p["coin"])
        horizon = str(p["horizon"])
        signal = str(p["signal"])
        confidence = float(p["confidence"])
        published, pub_dt = rfc3339_z(str(p.get("published_at") or p["made_at"]))
        _, made_dt = rfc3339_z(str(p["made_at"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"malformed prediction {p!r:.300}: {e}") from e
    if horizon not in HORIZONS:
        raise ExportError(f"prediction {pid}: horizon {horizon!r} not in {HORIZONS}")
    if signal not in SIGNALS:
        raise ExportError(f"prediction {pid}: signal {signal!r} not in {SIGNALS}")
    if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        raise ExportError(f"prediction {pid}: confidence {confidence} not in [0, 1]")
    if not coin or "/" in coin or "," in coin:
        raise ExportError(f"prediction {pid}: bad coin {coin!r}")
    key = (pub_dt, made_dt, coin, horizon, pid)
    return key, [published, f"{coin}/{quote}", horizon, signal, repr(confidence)]


def current_only(ordered: list) -> tuple[list, int]:
    """Keeps the rows that were the newest (by made_at) of their coin and horizon when published.

    `ordered`: (key, row) sorted by key = (published, made, coin, horizon, id). Rows published at
    the same instant count together: of such a batch only the newest made_at can be current.
    """
    best_made: dict = {}  # (coin, horizon) -> newest made_at published so far
    batch_max: dict = {}  # (published, coin, horizon) -> newest made_at of that batch
    for (pub, made, coin, horizon, _), _row in ordered:
        k = (pub, coin, horizon)
        if k not in batch_max or made > batch_max[k]:
            batch_max[k] = made
    kept = []
    for key, row in ordered:
        pub, made, coin, horizon, _ = key
        newest = batch_max[(pub, coin, horizon)]
        prev = best_made.get((coin, horizon))
        if made == newest and (prev is None or made >= prev):
            kept.append((key, row))
        if prev is None or newest > prev:
            best_made[(coin, horizon)] = newest
    return kept, len(ordered) - len(kept)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Export coincast's published predictions as CoincastSignals' signal CSV.")
    ap.add_argument("--url", required=True, help="coincast's base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--coin", nargs="+", action="extend", default=[],
                    help="only these coins (BTC LTC XRP ...); default all")
    ap.add_argument("--horizon", nargs="+", action="extend", default=[], choices=HORIZONS,
                    help="only these horizons; default all")
    ap.add_argument("--from", dest="frm", default="0",
                    help="made at or after (Unix seconds or RFC 3339); default: everything")
    ap.add_argument("--to", default=None, help="made before (Unix seconds or RFC 3339); "
                    "default: now")
    ap.add_argument("--out", required=True, help="the CSV to write")
    ap.add_argument("--quote", default="USDT", help="the pair's quote currency [USDT]")
    ap.add_argument("--live-only", action="store_true",
                    help="leave out predictions marked backfilled")
    ap.add_argument("--all", action="store_true",
                    help="also rows that never were the current prediction (older backfilled)")
    ap.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout, seconds [30]")
    args = ap.parse_args(argv)

    base = args.url.rstrip("/")
    quote = args.quote.strip().upper()
    if not quote or "/" in quote or "," in quote:
        ap.error(f"bad --quote {args.quote!r}")
    coins = [c.upper() for c in dict.fromkeys(args.coin)] or [None]
    horizons = list(dict.fromkeys(args.horizon)) or [None]
    t0 = time.monotonic()
    notes: list[str] = []
    seen: dict = {}
    fetched = 0
    backfilled = 0
    try:
        for coin in coins:
            for horizon in horizons:
                for p in history_rows(base, coin, horizon, args.frm, args.to, args.timeout,
                                      notes):
                    fetched += 1
                    if p.get("backfilled") and args.live_only:
                        backfilled += 1
                        continue
                    key, row = to_signal_row(p, quote)
                    seen[key[-1]] = (key, row)  # by id: a row on two pages counts once
    except ExportError as e:
        print(f"export_history: {e}", file=sys.stderr)
        return 1

    ordered = sorted(seen.values(), key=lambda kr: kr[0])
    superseded = 0
    if not args.all:
        ordered, superseded = current_only(ordered)
    rows = [row for _, row in ordered]
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".signals-", suffix=".csv", dir=out_dir)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(HEADER)
            w.writerows(rows)
        os.replace(tmp, args.out)
    except BaseException:
        os.unlink(tmp)
        raise

    for n in notes:
        print(f"export_history: note: {n}", file=sys.stderr)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        c = counts.setdefault((r[1], r[2]), {s: 0 for s in SIGNALS})
        c[r[3]] += 1
    for (pair, h), c in sorted(counts.items()):
        print(f"export_history: {pair} {h}: {sum(c.values())} signals "
              f"(LONG {c['LONG']}, SHORT {c['SHORT']}, FLAT {c['FLAT']})", file=sys.stderr)
    span = f", {rows[0][0]} .. {rows[-1][0]}" if rows else ""
    skipped = f", {backfilled} backfilled left out" if args.live_only else ""
    if superseded:
        skipped += f", {superseded} never current (older backfilled) left out"
    print(f"export_history: {len(rows)} rows written to {args.out} ({fetched} read{skipped}"
          f"{span}) in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
