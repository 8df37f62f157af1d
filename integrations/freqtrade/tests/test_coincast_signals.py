# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of CoincastSignals: the signal file reader, the fill rule, and the live path
against a local stand-in for coincast's /api/predictions (loopback only).

Run in the referee's venv (it has freqtrade):  $VENV/bin/python -m unittest discover -s
integrations/freqtrade/tests -v   (pytest runs them too).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import tempfile
import threading
import unittest
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from freqtrade.enums import RunMode

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "referee" / "fixtures"
_spec = importlib.util.spec_from_file_location(
    "CoincastSignals", HERE.parent / "strategies" / "CoincastSignals.py"
)
cs = importlib.util.module_from_spec(_spec)
sys.modules["CoincastSignals"] = cs
_spec.loader.exec_module(cs)

T0 = datetime(2024, 3, 2, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def row(minutes: float, signal: str = "LONG", conf: float = 0.5, line: int = 2):
    return cs.SignalRow(T0 + timedelta(minutes=minutes), "BTC/USDT", "1h", signal, conf, line)


def opens(n: int = 60) -> np.ndarray:
    """n 5-minute candles from T0, Unix seconds."""
    return np.array([int((T0 + i * FIVE).timestamp()) for i in range(n)], dtype=np.int64)


def plan(rows, *, can_short=True, min_conf=0.0, n=60):
    entries, st = cs.plan_entries(opens(n), rows, 3600, can_short=can_short,
                                  min_confidence=min_conf)
    return [(e.entry_idx, e.direction) for e in entries], st


class SignalFile(unittest.TestCase):
    def write(self, text: str) -> Path:
        f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(Path(f.name).unlink)
        return Path(f.name)

    def test_fixtures_parse(self):
        rows = cs.read_signal_file(FIXTURES / "signals-edge-cases.csv")
        self.assertEqual(len(rows), 17)
        self.assertEqual(rows[6].published_at,
                         datetime(2024, 3, 2, 3, 14, 59, 999000, tzinfo=UTC))
        self.assertEqual(rows[14].published_at, datetime(2024, 3, 2, 11, 0, 5, tzinfo=UTC))
        self.assertEqual({r.horizon for r in rows}, {"1h", "2h"})
        self.assertGreater(len(cs.read_signal_file(FIXTURES / "signals-hourly.csv")), 100)

    def test_rejects(self):
        h = "published_at,pair,horizon,signal,confidence\n"
        bad = {
            "published_at,pair,horizon,signal\n": "header",
            h + "2024-03-02T00:00:00+01:00,BTC/USDT,1h,LONG,0.5\n": "UTC",
            h + "2024-03-02 00:00:00Z,BTC/USDT,1h,LONG,0.5\n": "RFC 3339",
            h + "2024-03-02T00:00:00Z,BTC/USDT,3h,LONG,0.5\n": "horizon",
            h + "2024-03-02T00:00:00Z,BTC/USDT,1h,BUY,0.5\n": "signal",
            h + "2024-03-02T00:00:00Z,BTC/USDT,1h,LONG,1.5\n": "confidence",
            h + "2024-03-02T00:00:00Z,BTC/USDT:USDT,1h,LONG,0.5\n": "pair",
            h + "2024-03-02T00:00:00Z,BTC/USDT,1h,LONG\n": "fields",
        }
        for text, word in bad.items():
            with self.assertRaises(ValueError) as e:
                cs.read_signal_file(self.write(text))
            self.assertIn(word, str(e.exception))
        # A blank line is allowed.
        ok = self.write(h + "\n2024-03-02T00:00:00Z,BTC/USDT,1h,FLAT,0\n")
        self.assertEqual(len(cs.read_signal_file(ok)), 1)


class FillRule(unittest.TestCase):
    def test_at_or_after_published_at(self):
        # On a candle's open exactly: that candle. A microsecond later: the next one.
        self.assertEqual(plan([row(10)])[0], [(2, "long")])
        self.assertEqual(plan([row(10 + 1e-6 / 60)])[0], [(3, "long")])
        self.assertEqual(plan([row(9.99)])[0], [(2, "long")])

    def test_newest_per_candle_wins(self):
        got, st = plan([row(11, "LONG", line=2), row(13, "SHORT", line=3)])
        self.assertEqual((got, st.superseded), ([(3, "short")], 1))
        # Long-only: the newest is a SHORT, so nothing (the older LONG does not come back).
        got, st = plan([row(11, "LONG"), row(13, "SHORT")], can_short=False)
        self.assertEqual((got, st.short_skipped), ([], 1))
        got, st = plan([row(11, "LONG"), row(13, "FLAT")])
        self.assertEqual((got, st.flat), ([], 1))
        # Same instant: the later line of the file.
        got, _ = plan([row(11, "SHORT", line=5), row(11, "LONG", line=4)])
        self.assertEqual(got, [(3, "short")])

    def test_no_overlap_but_back_to_back(self):
        rows = [row(0.1), row(30, "SHORT"), row(65, "SHORT"), row(66, "LONG", conf=0.01)]
        got, st = plan(rows)
        # 00:05 -> 01:05; 00:30 is inside; 01:05 opens at the exit candle itself.
        self.assertEqual(got, [(1, "long"), (13, "short")])
        self.assertEqual(st.overlapping, 2)
        got, st = plan(rows, min_conf=0.1)
        self.assertEqual(got, [(1, "long"), (13, "short")])
        self.assertEqual((st.low_confidence, st.overlapping), (1, 1))

    def test_low_confidence_does_not_block(self):
        got, st = plan([row(1, conf=0.05), row(20, conf=0.5)], min_conf=0.1)
        self.assertEqual((got, st.low_confidence), ([(4, "long")], 1))

    def test_edges_of_the_data(self):
        # Candles open at 0, 5, ..., 295 minutes: the first cannot be an entry (freqtrade acts
        # at the open after a flagged candle); 296 comes after the last one.
        got, st = plan([row(-3), row(0), row(291), row(296)], n=60)
        self.assertEqual((st.before_data, st.after_data), (2, 1))
        self.assertEqual(got, [(59, "long")])


class LiveDecision(unittest.TestCase):
    def entry(self, published: datetime, signal="LONG", conf=0.4, valid=30, skill=True):
        return {
            "coin": "BTC", "horizon": "1h", "cadence_minutes": 1,
            "prediction": {
                "id": 7, "signal": signal, "confidence": conf,
                "made_at": (published - timedelta(seconds=5)).isoformat(),
                "published_at": published.isoformat().replace("+00:00", "Z"),
                "valid_until": (published + timedelta(minutes=valid)).isoformat(),
            },
            "skill": {"beats_baseline": skill},
        }

    def decide(self, entry, now=None, **kw):
        candle = T0 + 2 * FIVE
        args = dict(now=now or candle + timedelta(seconds=2), entry_candle_open=candle,
                    timeframe_s=300, can_short=True, min_confidence=0.0,
                    require_beats_baseline=False)
        args.update(kw)
        return cs.live_decision(entry, **args)

    def test_window(self):
        self.assertEqual(self.decide(self.entry(T0 + 2 * FIVE))[0], "long")  # on the open
        self.assertEqual(self.decide(self.entry(T0 + FIVE + timedelta(seconds=1)))[0], "long")
        self.assertIsNone(self.decide(self.entry(T0 + FIVE))[0])  # the previous candle's
        self.assertIsNone(self.decide(self.entry(T0))[0])
        self.assertIn("earlier candle", self.decide(self.entry(T0))[1])
        late = self.decide(self.entry(T0 + 2 * FIVE + timedelta(seconds=5)))
        self.assertEqual(late[0], None)
        self.assertIn("published after this candle opened", late[1])

    def test_reasons(self):
        pub = T0 + 2 * FIVE - timedelta(seconds=30)
        self.assertEqual(self.decide(self.entry(pub, "SHORT"))[0], "short")
        self.assertIn("long-only", self.decide(self.entry(pub, "SHORT"), can_short=False)[1])
        self.assertEqual(self.decide(self.entry(pub, "FLAT")), (None, "FLAT", False))
        self.assertTrue(self.decide(self.entry(pub, valid=0))[2], "stale is unavailable")
        self.assertIn("stale", self.decide(self.entry(pub, valid=0))[1])
        self.assertIn("min_confidence", self.decide(self.entry(pub, conf=0.1),
                                                    min_confidence=0.2)[1])
        self.assertIn("baseline", self.decide(self.entry(pub, skill=False),
                                              require_beats_baseline=True)[1])
        self.assertIn("not served", self.decide(None)[1])
        missing = {"coin": "BTC", "horizon": "1h", "prediction": None,
                   "not_made_reason": "stale candles"}
        self.assertIn("stale candles", self.decide(missing)[1])
        self.assertTrue(self.decide(missing)[2])
        self.assertTrue(self.decide(None)[2])


class FakeCoincast:
    """A loopback HTTP server answering /api/predictions with a body and an ETag."""

    def __init__(self) -> None:
        self.body: dict = {"mode": {"kind": "live"}, "predictions": []}
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append({"path": self.path,
                                      "inm": self.headers.get("If-None-Match")})
                data = json.dumps(fake.body).encode()
                etag = '"%016x"' % (hash(data) & 0xFFFFFFFFFFFFFFFF)
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Live(unittest.TestCase):
    def setUp(self):
        self.fake = FakeCoincast()
        self.addCleanup(self.fake.close)

    def strategy(self, url=None, **cc):
        cfg = {"coincast": {"url": url or self.fake.url, "horizon": "1h", **cc},
               "trading_mode": "spot", "timeframe": "5m"}
        s = cs.CoincastSignals(cfg)
        s.dp = SimpleNamespace(runmode=RunMode.DRY_RUN)
        return s

    def frame(self, last_open: datetime, n: int = 5) -> pd.DataFrame:
        dates = pd.date_range(end=last_open, periods=n, freq="5min", tz="UTC")
        return pd.DataFrame({"date": dates, "open": 1.0, "high": 1.0, "low": 1.0,
                             "close": 1.0, "volume": 1.0})

    def now_candle(self) -> datetime:
        """The open of the candle just closed, so the entry candle opens now-ish."""
        now = datetime.now(UTC)
        return now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5) - FIVE

    def prediction(self, coin, signal, published, valid_s=600):
        return {"coin": coin, "horizon": "1h", "cadence_minutes": 1,
                "prediction": {"id": 1, "signal": signal, "confidence": 0.3,
                               "made_at": published.isoformat(),
                               "published_at": published.isoformat(),
                               "valid_until": (published + timedelta(seconds=valid_s))
                               .isoformat()},
                "skill": {"beats_baseline": True}}

    def test_enters_once_per_candle_with_etag(self):
        last = self.now_candle()
        pub = last + FIVE - timedelta(seconds=40)
        self.fake.body["predictions"] = [self.prediction("BTC", "LONG", pub),
                                         self.prediction("XRP", "SHORT", pub)]
        s = self.strategy()
        df = s.populate_entry_trend(self.frame(last), {"pair": "BTC/USDT"})
        self.assertEqual(df["enter_long"].tolist(), [0, 0, 0, 0, 1])
        df = s.populate_entry_trend(self.frame(last), {"pair": "XRP/USDT"})
        self.assertEqual(df["enter_short"].sum() + df["enter_long"].sum(), 0)  # spot: no short
        self.assertEqual(len(self.fake.requests), 1, "one poll per candle")
        self.assertEqual(self.fake.requests[0]["path"], "/api/predictions")
        # The next candle: revalidated with the ETag (304), and the prediction is now old.
        df = s.populate_entry_trend(self.frame(last + FIVE), {"pair": "BTC/USDT"})
        self.assertEqual(len(self.fake.requests), 2)
        self.assertIsNotNone(self.fake.requests[1]["inm"])
        self.assertEqual(df["enter_long"].sum(), 0)

    def test_unreachable_and_stale_mean_no_entries(self):
        last = self.now_candle()
        s = self.strategy(url="http://127.0.0.1:9", on_unavailable="exit")
        with self.assertLogs("CoincastSignals", logging.WARNING) as logs:
            df = s.populate_entry_trend(self.frame(last), {"pair": "BTC/USDT"})
        self.assertEqual(df["enter_long"].sum(), 0)
        self.assertIn("unreachable", "\n".join(logs.output))
        trade = SimpleNamespace(open_date_utc=last + FIVE + timedelta(seconds=3))
        self.assertEqual(s.custom_exit("BTC/USDT", trade, last + 2 * FIVE, 1.0, 0.0),
                         "coincast_unavailable")

        pub = last + FIVE - timedelta(seconds=40)
        self.fake.body["predictions"] = [self.prediction("BTC", "LONG", pub, valid_s=1)]
        s = self.strategy()
        with self.assertLogs("CoincastSignals", logging.WARNING) as logs:
            df = s.populate_entry_trend(self.frame(last), {"pair": "BTC/USDT"})
        self.assertEqual(df["enter_long"].sum(), 0)
        self.assertIn("stale", "\n".join(logs.output))
        # on_unavailable "hold": the open position keeps to its horizon.
        self.assertIsNone(s.custom_exit("BTC/USDT", trade, last + 2 * FIVE, 1.0, 0.0))

    def test_replay_mode_is_refused_unless_allowed(self):
        last = self.now_candle()
        pub = last + FIVE - timedelta(seconds=40)
        self.fake.body = {"mode": {"kind": "replay"},
                          "predictions": [self.prediction("BTC", "LONG", pub)]}
        df = self.strategy().populate_entry_trend(self.frame(last), {"pair": "BTC/USDT"})
        self.assertEqual(df["enter_long"].sum(), 0)
        df = self.strategy(allow_replay=True).populate_entry_trend(self.frame(last),
                                                                   {"pair": "BTC/USDT"})
        self.assertEqual(df["enter_long"].sum(), 1)

    def test_exit_after_the_horizon_from_the_entry_candle(self):
        s = self.strategy()
        opened = T0 + FIVE + timedelta(seconds=4)  # a live fill, seconds after the open
        trade = SimpleNamespace(open_date_utc=opened)
        self.assertIsNone(s.custom_exit("BTC/USDT", trade, T0 + timedelta(minutes=64), 1, 0))
        self.assertEqual(s.custom_exit("BTC/USDT", trade, T0 + timedelta(minutes=65), 1, 0),
                         "coincast_1h_elapsed")


if __name__ == "__main__":
    unittest.main()
