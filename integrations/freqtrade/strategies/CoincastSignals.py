# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (C) the coincast authors. See ../LICENSE and ../README.md for why this folder is GPL.
"""CoincastSignals: a freqtrade strategy that trades a coincast deployment's signals.

coincast predicts whether a coin's price goes UP or DOWN over a horizon (30m ... 12h) and turns
each prediction into a signal: LONG, SHORT or FLAT, with a confidence in [0, 1]. This strategy
follows those signals with one fixed rule, the same in a backtest and in live/dry-run trading:

- A signal is acted on at the open of the first candle that starts at or after its
  `published_at` (no look-ahead). When several signals of a pair fall before the same candle
  (coincast publishes every minute; candles are longer), only the newest of them counts: it is
  what a bot polling at that candle's open sees.
- LONG opens a long, SHORT a short (futures only; in spot, SHORT signals are skipped), FLAT opens
  nothing. A signal below `min_confidence` opens nothing.
- A position is held for exactly the horizon: it closes at the open of the candle that starts at
  entry + horizon (the first candle at or after it, should the data have a gap).
- Positions of a pair never overlap: a signal whose entry candle comes before the open position's
  exit candle is ignored; one whose entry candle is the exit candle opens the next position there.
- No stop-loss, no ROI target, no trailing stop: the horizon alone closes a position.

Where the signals come from:
- live / dry-run: `GET {url}/api/predictions` with `If-None-Match`, once per candle;
- backtesting (and hyperopt, plot): a CSV file that coincast exports, with the header
  `published_at,pair,horizon,signal,confidence` (see ../README.md).

Settings, in the bot's config under "coincast" (defaults in brackets):
  url                     coincast's base URL, live/dry-run only [http://127.0.0.1:8080]
  horizon                 30m | 1h | 2h | 4h | 6h | 12h [1h]; a multiple of the timeframe
  min_confidence          only signals at least this confident [0.0]
  short                   trade SHORT signals when trading_mode is futures [true]; spot never shorts
  signal_file             the CSV to backtest (required outside live/dry-run)
  request_timeout_s       HTTP timeout [5]
  on_unavailable          what open positions do while coincast is unreachable or the pair's
                          prediction is missing/stale: "hold" (keep to the horizon) or "exit"
                          (close at the next check) ["hold"]. Either way no new entries.
  allow_replay            act on a coincast that replays recorded history (`mode.kind` replay) in
                          live/dry-run; its predictions are about the past, not today's market [false]
  require_beats_baseline  enter only when the serving model beat its baseline out of sample
                          (`skill.beats_baseline`) [false]
"""

from __future__ import annotations

import csv
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from freqtrade.enums import RunMode, TradingMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_prev_date, timeframe_to_seconds
from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy
from pandas import DataFrame

logger = logging.getLogger(__name__)

HORIZONS = {"30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360, "12h": 720}
SIGNALS = ("LONG", "SHORT", "FLAT")
HEADER = ["published_at", "pair", "horizon", "signal", "confidence"]
EPOCH = pd.Timestamp(0, tz="UTC")
EPOCH_DT = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# The signal file and the fill rule: plain functions, no freqtrade state (tested on their own).
# --------------------------------------------------------------------------------------------


# NamedTuples, not dataclasses: freqtrade imports strategy files without registering them in
# sys.modules, which @dataclass needs.
class SignalRow(NamedTuple):
    published_at: datetime  # UTC
    pair: str  # spot form, BTC/USDT
    horizon: str
    signal: str  # LONG | SHORT | FLAT
    confidence: float
    line: int  # line number in the file (1 = header)


def parse_rfc3339_utc(text: str) -> datetime:
    """`2025-04-01T00:05:00Z` (fractions allowed) -> aware UTC datetime; other offsets refused."""
    if not (text.endswith("Z") or text.endswith("+00:00")):
        raise ValueError(f"published_at must be UTC (end in Z): {text!r}")
    if "T" not in text:
        raise ValueError(f"published_at must be RFC 3339 (date T time): {text!r}")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def read_signal_file(path: str | Path) -> list[SignalRow]:
    """Reads coincast's signal CSV, checking every field; raises ValueError naming the line."""
    rows: list[SignalRow] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != HEADER:
            raise ValueError(f"{path}: header must be {','.join(HEADER)}, got {header}")
        for line, rec in enumerate(reader, start=2):
            if not rec or all(not f.strip() for f in rec):
                continue
            if len(rec) != len(HEADER):
                raise ValueError(f"{path}:{line}: expected {len(HEADER)} fields, got {len(rec)}")
            pub, pair, horizon, signal, conf = (f.strip() for f in rec)
            try:
                published_at = parse_rfc3339_utc(pub)
                confidence = float(conf)
            except ValueError as e:
                raise ValueError(f"{path}:{line}: {e}") from e
            if "/" not in pair or ":" in pair:
                raise ValueError(f"{path}:{line}: pair must look like BTC/USDT, got {pair!r}")
            if horizon not in HORIZONS:
                raise ValueError(f"{path}:{line}: horizon {horizon!r} not in {list(HORIZONS)}")
            if signal not in SIGNALS:
                raise ValueError(f"{path}:{line}: signal {signal!r} not in {SIGNALS}")
            if not 0.0 <= confidence <= 1.0:
                raise ValueError(f"{path}:{line}: confidence {confidence} not in [0, 1]")
            rows.append(SignalRow(published_at, pair, horizon, signal, confidence, line))
    return rows


class Entry(NamedTuple):
    """A position the fill rule opens: candle indexes into the pair's candles."""

    entry_idx: int
    direction: str  # "long" | "short"
    row: SignalRow


class PlanStats:
    """What happened to a pair's signals."""

    def __init__(self, signals: int) -> None:
        self.signals = signals  # rows of this pair and horizon
        self.before_data = 0  # the entry candle would be the data's first: not tradable
        self.after_data = 0  # published after the last candle opened
        self.superseded = 0  # a newer signal falls before the same candle
        self.flat = 0
        self.short_skipped = 0  # SHORT while trading long-only
        self.low_confidence = 0
        self.overlapping = 0  # a position was open
        self.entries = 0


def plan_entries(
    candle_open_s: np.ndarray,
    rows: list[SignalRow],
    horizon_s: int,
    *,
    can_short: bool,
    min_confidence: float,
) -> tuple[list[Entry], PlanStats]:
    """The fill rule over one pair's candles (their open times, Unix seconds, ascending).

    Returns the positions to open, in time order, and what happened to every signal. Index 0 is
    never an entry: a freqtrade backtest acts on a candle's signal at the next candle's open.
    """
    stats = PlanStats(len(rows))
    n = len(candle_open_s)
    # Exact integer microseconds: a signal 1 us after a candle's open belongs to the next one.
    opens_us = np.asarray(candle_open_s, dtype=np.int64) * 1_000_000
    # 1. The entry candle of each signal: the first candle opening at or after published_at;
    #    keep only the newest signal per entry candle (ties: the later line of the file).
    newest: dict[int, SignalRow] = {}
    for r in sorted(rows, key=lambda r: (r.published_at, r.line)):
        pub_us = (r.published_at - EPOCH_DT) // timedelta(microseconds=1)
        idx = int(np.searchsorted(opens_us, pub_us, side="left"))
        if idx >= n:
            stats.after_data += 1
            continue
        if idx == 0:
            stats.before_data += 1
            continue
        if idx in newest:
            stats.superseded += 1
        newest[idx] = r
    # 2. Signals into positions, never overlapping.
    entries: list[Entry] = []
    free_at = -np.inf  # the open position's exit time
    for idx in sorted(newest):
        r = newest[idx]
        if r.signal == "FLAT":
            stats.flat += 1
            continue
        if r.signal == "SHORT" and not can_short:
            stats.short_skipped += 1
            continue
        if r.confidence < min_confidence:
            stats.low_confidence += 1
            continue
        if candle_open_s[idx] < free_at:
            stats.overlapping += 1
            continue
        entries.append(Entry(idx, "long" if r.signal == "LONG" else "short", r))
        free_at = candle_open_s[idx] + horizon_s
    stats.entries = len(entries)
    return entries, stats


def live_decision(
    entry: dict | None,
    *,
    now: datetime,
    entry_candle_open: datetime,
    timeframe_s: int,
    can_short: bool,
    min_confidence: float,
    require_beats_baseline: bool,
) -> tuple[str | None, str]:
    """What to do at the open of `entry_candle_open` with a coin's entry of /api/predictions.

    Returns (direction or None, reason, unavailable): `unavailable` when coincast has no current
    prediction for the coin (not served, none made, or stale: valid_until passed). The prediction
    counts only at the first candle opening at or after its published_at, like in a backtest:
    published in (open - timeframe, open].
    """
    if entry is None:
        return None, "coin not served by coincast", True
    pred = entry.get("prediction")
    if pred is None:
        why = entry.get("not_made_reason") or "none was made"
        return None, f"no current prediction ({why})", True
    valid_until = parse_rfc3339_any(pred["valid_until"])
    if valid_until <= now:
        return None, (f"prediction {pred.get('id')} is stale (valid_until "
                      f"{pred['valid_until']})"), True
    published = parse_rfc3339_any(pred.get("published_at") or pred["made_at"])
    window_start = entry_candle_open - timedelta(seconds=timeframe_s)
    if published <= window_start:
        return None, f"prediction {pred.get('id')} was for an earlier candle", False
    if published > entry_candle_open:
        return None, (f"prediction {pred.get('id')} was published after this candle opened "
                      "(it counts at the next candle)"), False
    signal = pred.get("signal")
    if signal == "FLAT":
        return None, "FLAT", False
    if signal == "SHORT" and not can_short:
        return None, "SHORT skipped (long-only)", False
    if signal not in ("LONG", "SHORT"):
        return None, f"unknown signal {signal!r}", False
    conf = float(pred.get("confidence", 0.0))
    if conf < min_confidence:
        return None, f"confidence {conf:.3f} < min_confidence {min_confidence}", False
    if require_beats_baseline and not (entry.get("skill") or {}).get("beats_baseline"):
        return None, "model does not beat its baseline (require_beats_baseline)", False
    return ("long" if signal == "LONG" else "short"), f"{signal} c={conf:.3f}", False


def parse_rfc3339_any(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def spot_pair(pair: str) -> str:
    """BTC/USDT:USDT (futures) -> BTC/USDT."""
    return pair.split(":")[0]


def coin_of(pair: str) -> str:
    """BTC/USDT -> BTC: coincast's coin is the pair's base currency."""
    return pair.split("/")[0].upper()


# --------------------------------------------------------------------------------------------
# The strategy.
# --------------------------------------------------------------------------------------------


class CoincastSignals(IStrategy):
    INTERFACE_VERSION = 3

    timeframe = "5m"
    # Exits are by time only (custom_exit); ROI, stop-loss and trailing are off. A stop-loss of
    # -99% never fires for a long at 1x; for a 1x short it fires only if the price nearly doubles.
    minimal_roi = {"0": 100.0}
    stoploss = -0.99
    trailing_stop = False
    use_exit_signal = True  # needed for custom_exit to be called; no exit signals are set
    exit_profit_only = False
    ignore_roi_if_entry_signal = False
    process_only_new_candles = True
    startup_candle_count = 0
    can_short = False
    position_adjustment_enable = False

    order_types = {
        "entry": "market",
        "exit": "market",
        "emergency_exit": "market",
        "force_entry": "market",
        "force_exit": "market",
        "stoploss": "market",
        "stoploss_on_exchange": False,
    }

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        cc = dict(config.get("coincast") or {})
        self.cc_url = str(cc.get("url", "http://127.0.0.1:8080")).rstrip("/")
        self.cc_horizon = str(cc.get("horizon", "1h"))
        if self.cc_horizon not in HORIZONS:
            raise OperationalException(
                f"coincast.horizon {self.cc_horizon!r} is not one of {list(HORIZONS)}"
            )
        self.cc_horizon_s = HORIZONS[self.cc_horizon] * 60
        self.cc_min_confidence = float(cc.get("min_confidence", 0.0))
        self.cc_signal_file = cc.get("signal_file")
        self.cc_timeout = float(cc.get("request_timeout_s", 5))
        self.cc_on_unavailable = str(cc.get("on_unavailable", "hold"))
        if self.cc_on_unavailable not in ("hold", "exit"):
            raise OperationalException("coincast.on_unavailable must be 'hold' or 'exit'")
        self.cc_allow_replay = bool(cc.get("allow_replay", False))
        self.cc_require_skill = bool(cc.get("require_beats_baseline", False))
        futures = config.get("trading_mode", TradingMode.SPOT) == TradingMode.FUTURES
        # Long/short only in futures; spot is long-only (SHORT signals are skipped).
        self.can_short = bool(futures and cc.get("short", True))
        # Live state.
        self._etag: str | None = None
        self._body: dict | None = None
        self._polled_for: datetime | None = None  # entry candle of the last poll
        self._poll_error: str | None = None
        self._unavailable: dict[str, str] = {}  # coin -> why (for on_unavailable)
        self._logged: set[tuple[datetime, str, str]] = set()
        # Backtest state.
        self._signals: dict[str, list[SignalRow]] | None = None

    # ---- set-up ----

    @property
    def _live(self) -> bool:
        return self.dp is not None and self.dp.runmode in (RunMode.LIVE, RunMode.DRY_RUN)

    def bot_start(self, **kwargs) -> None:
        tf_s = timeframe_to_seconds(self.timeframe)
        if self.cc_horizon_s % tf_s:
            raise OperationalException(
                f"coincast.horizon {self.cc_horizon} is not a multiple of the timeframe "
                f"{self.timeframe}: a position could not close at a candle's open"
            )
        if self._live:
            logger.info(
                "coincast: trading %s signals from %s (min_confidence %s, %s, on_unavailable %s)",
                self.cc_horizon, self.cc_url, self.cc_min_confidence,
                "long/short" if self.can_short else "long-only", self.cc_on_unavailable,
            )
            return
        if not self.cc_signal_file:
            raise OperationalException(
                "coincast.signal_file is required outside live/dry-run: the CSV of signals to "
                "backtest (published_at,pair,horizon,signal,confidence)"
            )
        try:
            rows = read_signal_file(self.cc_signal_file)
        except (OSError, ValueError) as e:
            raise OperationalException(f"coincast signal file: {e}") from e
        self._signals = {}
        for r in rows:
            if r.horizon == self.cc_horizon:
                self._signals.setdefault(r.pair, []).append(r)
        logger.info(
            "coincast: %d signals read from %s, %d of horizon %s for %d pairs (%s)",
            len(rows), self.cc_signal_file, sum(map(len, self._signals.values())),
            self.cc_horizon, len(self._signals),
            "long/short" if self.can_short else "long-only",
        )

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None,
                 side: str, **kwargs) -> float:
        # coincast's P&L figures are for an unlevered position of the whole stake.
        return 1.0

    # ---- signals ----

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        n = len(dataframe)
        enter_long = np.zeros(n, dtype=int)
        enter_short = np.zeros(n, dtype=int)
        tags = np.full(n, None, dtype=object)
        if n:
            if self._live:
                self._live_entry(dataframe, metadata["pair"], enter_long, enter_short, tags)
            else:
                self._backtest_entries(dataframe, metadata["pair"], enter_long, enter_short, tags)
        dataframe["enter_long"] = enter_long
        dataframe["enter_short"] = enter_short
        dataframe["enter_tag"] = tags
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        dataframe["exit_short"] = 0
        return dataframe

    def _backtest_entries(self, df: DataFrame, pair: str, el, es, tags) -> None:
        rows = (self._signals or {}).get(spot_pair(pair), [])
        opens = ((df["date"] - EPOCH) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)
        entries, st = plan_entries(
            opens, rows, self.cc_horizon_s,
            can_short=self.can_short, min_confidence=self.cc_min_confidence,
        )
        for e in entries:
            # freqtrade fills a candle's signal at the next candle's open: flag the candle
            # before the entry candle (it closes at the entry candle's open, after published_at).
            (el if e.direction == "long" else es)[e.entry_idx - 1] = 1
            tags[e.entry_idx - 1] = (
                f"coincast {self.cc_horizon} {e.row.signal} c={e.row.confidence:.4f} "
                f"line={e.row.line}"
            )
        logger.info(
            "coincast %s %s: %d signals -> %d entries (superseded in the same candle %d, "
            "flat %d, short skipped %d, below min_confidence %d, overlapping %d, "
            "before the data %d, after the data %d)",
            pair, self.cc_horizon, st.signals, st.entries, st.superseded, st.flat,
            st.short_skipped, st.low_confidence, st.overlapping, st.before_data, st.after_data,
        )

    # ---- live ----

    def _say(self, candle: datetime, coin: str, msg: str, level: int = logging.INFO) -> None:
        key = (candle, coin, msg)
        if key not in self._logged:
            self._logged.add(key)
            if len(self._logged) > 5000:
                self._logged = {k for k in self._logged if k[0] >= candle}
            logger.log(level, "coincast %s %s: %s", coin, candle.isoformat(), msg)

    def _poll(self, entry_candle: datetime) -> None:
        """GET /api/predictions once per candle, revalidating with the ETag."""
        if self._polled_for == entry_candle:
            return
        self._polled_for = entry_candle
        import requests  # a freqtrade dependency

        headers = {"Accept": "application/json"}
        sent = None
        if self._etag and self._body is not None:
            sent = headers["If-None-Match"] = self._etag
        url = f"{self.cc_url}/api/predictions"
        try:
            resp = requests.get(url, headers=headers, timeout=self.cc_timeout)
            if resp.status_code == 304 and self._body is not None:
                self._poll_error = None
                logger.info("coincast: polled %s for the candle %s: 304 Not Modified, ETag %s "
                            "(If-None-Match %s): reusing the last answer", url,
                            entry_candle.isoformat(), resp.headers.get("ETag"), sent)
                return
            resp.raise_for_status()
            body = resp.json()
            if not isinstance(body, dict) or not isinstance(body.get("predictions"), list):
                raise ValueError("answer has no predictions list")
            self._body = body
            self._etag = resp.headers.get("ETag")
            self._poll_error = None
            logger.info("coincast: polled %s for the candle %s: %d, ETag %s (If-None-Match %s), "
                        "mode %s, %d entries", url, entry_candle.isoformat(), resp.status_code,
                        self._etag, sent, (body.get("mode") or {}).get("kind"),
                        len(body["predictions"]))
        except Exception as e:  # noqa: BLE001 - any failure means: unreachable this candle
            self._poll_error = f"{type(e).__name__}: {e}"

    def _live_entry(self, df: DataFrame, pair: str, el, es, tags) -> None:
        last_open = df["date"].iloc[-1].to_pydatetime()
        tf_s = timeframe_to_seconds(self.timeframe)
        entry_candle = last_open + timedelta(seconds=tf_s)
        now = datetime.now(UTC)
        coin = coin_of(pair)
        self._poll(entry_candle)
        if self._poll_error is not None:
            self._unavailable[coin] = "unreachable"
            self._say(entry_candle, "*", f"coincast unreachable at {self.cc_url} "
                      f"({self._poll_error}): no new entries", logging.WARNING)
            return
        body = self._body or {}
        mode = body.get("mode") or {}
        if mode.get("kind") == "replay" and not self.cc_allow_replay:
            self._unavailable[coin] = "replay"
            self._say(entry_candle, "*", "coincast is replaying recorded history, not today's "
                      "market: no entries (set coincast.allow_replay to test against it)",
                      logging.WARNING)
            return
        entry = next(
            (e for e in body.get("predictions", [])
             if e.get("coin") == coin and e.get("horizon") == self.cc_horizon),
            None,
        )
        direction, why, unavailable = live_decision(
            entry, now=now, entry_candle_open=entry_candle, timeframe_s=tf_s,
            can_short=self.can_short, min_confidence=self.cc_min_confidence,
            require_beats_baseline=self.cc_require_skill,
        )
        if unavailable:
            self._unavailable[coin] = why
            self._say(entry_candle, coin, f"{why}: no new entries", logging.WARNING)
        else:
            self._unavailable.pop(coin, None)
        if direction is None:
            if not unavailable:
                pred = entry["prediction"]
                self._say(entry_candle, coin, f"no entry: {why} (prediction {pred.get('id')}, "
                          f"{self.cc_horizon} {pred.get('signal')} "
                          f"c={float(pred.get('confidence', 0.0)):.3f}, published "
                          f"{pred.get('published_at')})")
            return
        (el if direction == "long" else es)[-1] = 1
        pred = entry["prediction"]
        tags[-1] = f"coincast {self.cc_horizon} {why} id={pred.get('id')}"
        self._say(entry_candle, coin, f"enter {direction}: {why} (prediction {pred.get('id')}, "
                  f"published {pred.get('published_at')})")

    # ---- exits ----

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | None:
        # The horizon runs from the open of the entry candle (a live fill lands seconds later).
        opened = timeframe_to_prev_date(self.timeframe, trade.open_date_utc)
        if current_time >= opened + timedelta(seconds=self.cc_horizon_s):
            return f"coincast_{self.cc_horizon}_elapsed"
        if self._live and self.cc_on_unavailable == "exit":
            why = self._unavailable.get(coin_of(pair))
            if why:
                return "coincast_unavailable"
        return None
