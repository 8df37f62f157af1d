#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live path against a REAL coincast: `freqtrade trade --dry-run` with CoincastSignals polling
a replaying coincast server, then the server's record exported with export_history.py.

Run by live_smoke.sh, which starts `coincast serve --replay` (fresh data dir) and waits for its
first predictions; this script gets the server's URL and does the rest:

1. Reads `/api/predictions` (must be `mode.kind` replay of the bundled sample) and picks the horizon
   to trade: the one whose current predictions are LONG for the most coins (spot is long-only),
   live ones before backfilled ones, else 1h. `--horizon` forces one.
2. Stands in for Binance, offline (referee/offline.py): klines, order book and server time from
   the SAME recording coincast replays (server/replay/binance-1m-2021-05.csv.gz, shifted by the
   server's `mode.shift_seconds`; checked equal to coincast's own `/api/prices` minutes first), so
   the bot trades the market coincast predicts. A minute's candle is served once the minute has
   ended, as Binance does (coincast stores it seconds later); the order book is quoted at the
   current minute's open, so a dry-run market fill is the entry candle's open.
3. Runs freqtrade (1m candles, spot, BTC LTC XRP, `allow_replay` on) until it has polled coincast
   on at least two candles and either opened a trade or decided `--max-candles` candles, or
   `--deadline-s` passed.
4. Asserts, from freqtrade's log and database and coincast's API:
   - polls: the first answered 200 with a strong ETag, mode replay, one entry per coin and
     horizon; every later poll sent the previous ETag in If-None-Match and got 304 exactly when
     coincast had published nothing in between (200 with a new ETag otherwise; when a publication
     falls within a second of a poll, either is accepted);
   - decisions: every one logged names a prediction that exists in coincast's history with the
     logged signal and confidence, was the newest of its coin and horizon when polled, and the
     action follows the fill rule (LONG published since the previous candle opened -> a long;
     FLAT -> nothing; SHORT -> nothing in spot; published after the candle opened -> not yet);
     at least one decision acted on a prediction of its own candle;
   - trades: each dry-run trade is a long of a pair whose coincast prediction (the id in its
     enter tag) is LONG, opened within its entry minute at exactly that minute's open in
     coincast's candles; one trade per "enter long" decision;
   - no ERROR or Traceback in freqtrade's log;
   - export_history.py, run with the system Python and no site-packages, writes a file the
     strategy's own reader parses, with rows, oldest first, containing every decided prediction;
     `--all` has every stored prediction; a `--coin --horizon` export is the matching subset.
   With no trade (every signal it saw FLAT or SHORT), it passes and says so, unless
   `--require-trade`.

  $VENV/bin/python live_smoke.py --url http://127.0.0.1:PORT --out DIR [--horizon H]
      [--max-candles 3] [--deadline-s 150] [--require-trade]
Prints "live smoke: PASS" or "live smoke: FAIL" and the reasons; exit status 0 only on PASS.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import gzip
import importlib.util
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # integrations/freqtrade
REFEREE = ROOT / "referee"
REPO = ROOT.parent.parent
BUNDLED_CSV = REPO / "server" / "replay" / "binance-1m-2021-05.csv.gz"
BUNDLED_ID = "binance-1m-2021-05"
COINS = ("BTC", "LTC", "XRP")
HORIZONS = ("30m", "1h", "2h", "4h", "6h", "12h")
TF_S = 60
T0 = time.monotonic()


def elapsed() -> float:
    return time.monotonic() - T0


def say(msg: str) -> None:
    print(f"[live {elapsed():6.1f} s] {msg}", flush=True)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# ---- the recording coincast replays ----

def load_recording(path: Path) -> dict[str, tuple[list[int], list[tuple[float, ...]]]]:
    """coin -> (open times, Unix s ascending; rows (open, high, low, close, volume))."""
    out: dict[str, list] = {}
    with gzip.open(path, "rt", newline="") as fh:
        r = csv.reader(fh)
        if next(r) != ["coin", "ts", "open", "high", "low", "close", "volume"]:
            raise SystemExit(f"{path}: unexpected header")
        for coin, t, *vals in r:
            out.setdefault(coin, []).append((int(t), tuple(float(v) for v in vals)))
    res = {}
    for coin, rows in out.items():
        rows.sort()
        res[coin] = ([t for t, _ in rows], [v for _, v in rows])
    return res


# ---- child: freqtrade with a local Binance ----

def child(config: str, csv_path: str, shift: int) -> None:
    sys.path.insert(0, str(REFEREE))
    import offline

    rec = load_recording(Path(csv_path))
    out = Path(config).parent
    standin_log = (out / "standin.log").open("a", buffering=1)

    def note(what: str) -> None:
        standin_log.write(f"{datetime.now(UTC):%H:%M:%S.%f} {what}\n")

    def coin_of(symbol: str) -> str:
        return symbol[:-4] if symbol.endswith("USDT") else symbol

    def bars(symbol: str) -> list[list]:
        """Every minute ended by now, then the minute now forming (o=h=l=c=its open, v=0)."""
        times, rows = rec[coin_of(symbol)]
        now_open = int(time.time()) // TF_S * TF_S
        i = bisect.bisect_right(times, now_open - shift)  # recorded minutes <= the forming one
        out = [[(times[j] + shift) * 1000, *rows[j]] for j in range(max(0, i - 1500), i)]
        if out and out[-1][0] == now_open * 1000:
            o = out[-1][1]
            out[-1] = [now_open * 1000, o, o, o, o, 0.0]
        return out

    def klines(url: str):
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        if q.get("interval") != "1m":
            raise ValueError(f"live smoke serves 1m klines only, asked {url}")
        rows = bars(q["symbol"])
        if "startTime" in q:
            rows = [r for r in rows if r[0] >= int(q["startTime"])]
        if "endTime" in q:
            rows = [r for r in rows if r[0] <= int(q["endTime"])]
        limit = int(q.get("limit", 500))
        rows = rows[:limit] if "startTime" in q else rows[-limit:]
        note(f"klines {q['symbol']} {len(rows)} rows, last {rows[-1][0] // 1000 if rows else '-'}")
        return [[r[0], *(f"{x}" for x in r[1:6]), r[0] + TF_S * 1000 - 1, "0", 1, "0", "0", "0"]
                for r in rows]

    def depth(url: str):
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        price = bars(q["symbol"])[-1][1]  # the open of the minute now forming
        note(f"depth {q['symbol']} {price}")
        return {"lastUpdateId": 1, "bids": [[f"{price}", "1000"]], "asks": [[f"{price}", "1000"]]}

    offline.EXTRA_ROUTES.update({
        "/api/v3/klines": klines,
        "/api/v3/uiKlines": klines,
        "/api/v3/depth": depth,
        "/api/v3/time": lambda url: {"serverTime": int(time.time() * 1000)},
    })
    offline.run_freqtrade(["trade", "--config", config, "--dry-run",
                           "--logfile", str(out / "freqtrade.log")])


# ---- parent: coincast's API ----

def api(url: str, path: str, **params) -> dict:
    q = f"?{urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{url}{path}{q}", timeout=30) as resp:
        return json.loads(resp.read())


def history(url: str) -> dict[int, dict]:
    """Every stored prediction, by id (pages of 1000, every minute)."""
    out: dict[int, dict] = {}
    cursor = None
    while True:
        params = {"from": 0, "step_minutes": 1, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        body = api(url, "/api/predictions/history", **params)
        for p in body["predictions"]:
            out[p["id"]] = p
        cursor = body.get("next_cursor")
        if not cursor:
            return out


def choose_horizon(snapshot: dict, now: datetime) -> tuple[str, str]:
    table: dict[str, dict[str, str]] = {h: {} for h in HORIZONS}
    score = {}
    for e in snapshot["predictions"]:
        p = e.get("prediction")
        if e["horizon"] not in table:
            continue
        if p is None:
            table[e["horizon"]][e["coin"]] = "none"
            continue
        fresh = ts(p["valid_until"]) > now
        table[e["horizon"]][e["coin"]] = (
            f"{p['signal']}{'*' if p['backfilled'] else ''}{'' if fresh else '(stale)'}")
    for h in HORIZONS:
        live = sum(v == "LONG" for v in table[h].values())
        backfilled = sum(v == "LONG*" for v in table[h].values())
        score[h] = (live, live + backfilled, h in ("30m", "1h", "2h"), h == "1h")
    lines = ["coincast's current signals (* backfilled at start-up):",
             "  horizon " + " ".join(f"{c:>8}" for c in COINS)]
    for h in HORIZONS:
        lines.append(f"  {h:>7} " + " ".join(f"{table[h].get(c, '-'):>8}" for c in COINS))
    best = max(HORIZONS, key=lambda h: score[h])
    return best, "\n".join(lines)


# ---- parent: freqtrade's log ----

LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - (\S+) - (\w+) - (.*)$")
POLL = re.compile(r"coincast: polled (\S+) for the candle (\S+): (\d{3})(?: Not Modified)?, "
                  r"ETag (\S+) \(If-None-Match (\S+)\)(?:, mode (\S+), (\d+) entries)?")
DECISION = re.compile(r"^coincast (BTC|LTC|XRP|\*) (\S+): (.*)$")


def parse_log(text: str) -> dict:
    polls, decisions, errors, started = [], [], [], []
    for line in text.splitlines():
        m = LOG_TIME.match(line)
        if not m:
            if line.startswith("Traceback"):
                errors.append(line)
            continue
        at = datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
        level, msg = m[3], m[4]
        if level in ("ERROR", "CRITICAL"):
            errors.append(line)
        if msg.startswith("coincast: trading "):
            started.append(msg)
        pm = POLL.search(msg)
        if pm:
            polls.append({"at": at, "url": pm[1], "candle": ts(pm[2]), "status": int(pm[3]),
                          "etag": pm[4], "inm": None if pm[5] == "None" else pm[5],
                          "mode": pm[6], "entries": int(pm[7]) if pm[7] else None})
            continue
        dm = DECISION.match(msg)
        if dm:
            pid = re.search(r"prediction (\d+)", dm[3])
            decisions.append({"at": at, "coin": dm[1], "candle": ts(dm[2]), "text": dm[3],
                              "level": level, "id": int(pid[1]) if pid else None})
    return {"polls": polls, "decisions": decisions, "errors": errors, "started": started}


def read_trades(db: Path) -> list[dict]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(
                "select id, pair, is_short, enter_tag, open_rate, open_date, is_open, amount "
                "from trades order by id")]
    except sqlite3.Error:
        return []


# ---- parent: the checks ----

def check_polls(polls: list[dict], hist: dict[int, dict], n_entries: int, problems: list[str],
                notes: list[str]) -> None:
    if not polls:
        problems.append("freqtrade never logged a poll of coincast")
        return
    first = polls[0]
    if first["status"] != 200:
        problems.append(f"first poll answered {first['status']}, expected 200")
    if not re.fullmatch(r'"[0-9a-f]{16}"', first["etag"] or ""):
        problems.append(f"first poll's ETag {first['etag']!r} is not a strong 16-hex tag")
    if first["mode"] != "replay":
        problems.append(f"first poll saw mode {first['mode']!r}, expected replay")
    if first["entries"] != n_entries:
        problems.append(f"first poll saw {first['entries']} entries, coincast serves {n_entries}")
    if len(polls) < 2:
        problems.append("only one poll: cannot check revalidation with If-None-Match")
    published = sorted({ts(p["published_at"]) for p in hist.values()})
    for prev, cur in zip(polls, polls[1:]):
        held = prev["etag"]
        if cur["inm"] != held:
            problems.append(f"poll at {cur['at']:%H:%M:%S} sent If-None-Match {cur['inm']}, "
                            f"expected the held ETag {held}")
        # published_at has whole seconds: a publication within 1 s of a poll is ambiguous.
        lo, hi = prev["at"], cur["at"]
        clear = [p for p in published if lo + timedelta(seconds=1) < p < hi - timedelta(seconds=1)]
        near = [p for p in published if lo - timedelta(seconds=1) <= p <= hi + timedelta(seconds=1)]
        expect = 200 if clear else (304 if not near else None)
        if cur["status"] == 304 and cur["etag"] != held:
            problems.append(f"304 at {cur['at']:%H:%M:%S} with ETag {cur['etag']} != {held}")
        if cur["status"] == 200 and cur["etag"] == held:
            problems.append(f"200 at {cur['at']:%H:%M:%S} with the unchanged ETag {held}")
        if expect is not None and cur["status"] != expect:
            problems.append(f"poll at {cur['at']:%H:%M:%S}: {cur['status']}, expected {expect} "
                            f"(coincast published {'something' if clear else 'nothing'} since "
                            f"the poll at {prev['at']:%H:%M:%S})")
        notes.append(f"poll {cur['at']:%H:%M:%S.%f}"[:-3] + f": {cur['status']} (If-None-Match "
                     f"{cur['inm']}; expected {expect or '200 or 304'})")


def check_decisions(decisions: list[dict], polls: list[dict], hist: dict[int, dict],
                    horizon: str, problems: list[str]) -> list[dict]:
    """Returns the decisions that judged a prediction of their own candle."""
    judged = []
    by_candle = {p["candle"]: p for p in polls}
    for d in decisions:
        if d["coin"] == "*":
            problems.append(f"freqtrade could not use coincast at {d['candle']}: {d['text']}")
            continue
        if d["id"] is None:
            problems.append(f"{d['coin']} {d['candle']}: no prediction: {d['text']}")
            continue
        p = hist.get(d["id"])
        if p is None:
            problems.append(f"{d['coin']}: prediction {d['id']} is not in coincast's history")
            continue
        where = f"{d['coin']} {d['candle']:%H:%M} (prediction {d['id']})"
        if p["coin"] != d["coin"] or p["horizon"] != horizon:
            problems.append(f"{where}: is {p['coin']} {p['horizon']}, not {d['coin']} {horizon}")
        poll = by_candle.get(d["candle"])
        if poll is None:
            problems.append(f"{where}: decided without a poll for its candle")
            continue
        # The bot's view was current: nothing newer of this coin/horizon published >1 s before.
        newer = [q for q in hist.values() if q["coin"] == p["coin"] and q["horizon"] == horizon
                 and ts(q["made_at"]) > ts(p["made_at"])
                 and ts(q["published_at"]) < poll["at"] - timedelta(seconds=1)]
        if newer:
            problems.append(f"{where}: the poll at {poll['at']:%H:%M:%S} should have seen the "
                            f"newer prediction {newer[0]['id']}")
        pub, cand = ts(p["published_at"]), d["candle"]
        in_window = cand - timedelta(seconds=TF_S) < pub <= cand
        text = d["text"]
        if in_window:
            judged.append(d)
            expect = {"LONG": "enter long: LONG", "FLAT": "no entry: FLAT",
                      "SHORT": "no entry: SHORT skipped (long-only)"}[p["signal"]]
            if not text.startswith(expect):
                problems.append(f"{where}: coincast says {p['signal']}, the bot logged {text!r}")
            if f"c={p['confidence']:.3f}" not in text:
                problems.append(f"{where}: confidence {p['confidence']:.3f} not in {text!r}")
        elif pub > cand:
            if "published after this candle opened" not in text:
                problems.append(f"{where}: published {pub:%H:%M:%S} after the candle opened, "
                                f"the bot logged {text!r}")
        elif "earlier candle" not in text:
            problems.append(f"{where}: published {pub:%H:%M:%S} before the previous candle "
                            f"opened, the bot logged {text!r}")
    return judged


def check_trades(trades: list[dict], decisions: list[dict], hist: dict[int, dict], url: str,
                 horizon: str, rec: dict, shift: int, wait_until: float,
                 problems: list[str]) -> None:
    enters = [d for d in decisions if d["text"].startswith("enter long")]
    if len(trades) != len(enters):
        problems.append(f"{len(trades)} trades for {len(enters)} 'enter long' decisions")
    for t in trades:
        m = re.fullmatch(rf"coincast {horizon} LONG c=([0-9.]+) id=(\d+)", t["enter_tag"] or "")
        if not m:
            problems.append(f"trade {t['id']} {t['pair']}: tag {t['enter_tag']!r}")
            continue
        p = hist.get(int(m[2]))
        coin = t["pair"].split("/")[0]
        if p is None or p["signal"] != "LONG" or p["coin"] != coin or p["horizon"] != horizon:
            problems.append(f"trade {t['id']} {t['pair']}: prediction {m[2]} is {p and p['signal']}"
                            f" {p and p['coin']} {p and p['horizon']}, not LONG {coin} {horizon}")
            continue
        if t["is_short"]:
            problems.append(f"trade {t['id']} is a short in spot")
        d = next((d for d in enters if d["id"] == p["id"]), None)
        if d is None:
            problems.append(f"trade {t['id']}: no 'enter long' decision for prediction {p['id']}")
            continue
        opened = datetime.fromisoformat(t["open_date"]).replace(tzinfo=UTC)
        if not d["candle"] <= opened < d["candle"] + timedelta(seconds=TF_S):
            problems.append(f"trade {t['id']} opened {opened}, outside its entry minute "
                            f"{d['candle']:%H:%M}")
        # The entry minute's open: in the recording coincast replays (checked equal to coincast's
        # candles before the run) and in coincast's own candles once it has stored that minute
        # (it does at the next minute's second 5).
        minute = int(d["candle"].timestamp())
        times, rows = rec[coin]
        i = bisect.bisect_left(times, minute - shift)
        if i >= len(times) or times[i] != minute - shift or rows[i][0] != t["open_rate"]:
            problems.append(f"trade {t['id']}: open_rate {t['open_rate']} is not the recorded "
                            f"open of {d['candle']:%H:%M}")
        bar = None
        while bar is None:
            got = api(url, "/api/prices", coin=coin, resolution="1m",
                      **{"from": minute, "to": minute + TF_S})["candles"]
            bar = next((b for b in got if ts(b["t"]) == d["candle"] and b["closed"]), None)
            if bar is None:
                if time.monotonic() > wait_until:
                    break
                time.sleep(2)
        if bar is None:  # checked against the recording above; coincast has it a minute later
            say(f"trade {t['id']}: coincast had not stored the {coin} minute "
                f"{d['candle']:%H:%M} by the deadline; its open was checked in the recording")
        elif t["open_rate"] != bar["o"]:
            problems.append(f"trade {t['id']}: open_rate {t['open_rate']} != the entry minute's "
                            f"open {bar['o']} in coincast's candles")
        else:
            say(f"trade {t['id']} {t['pair']}: open_rate {t['open_rate']} = coincast's "
                f"{d['candle']:%H:%M} open; opened {opened:%H:%M:%S.%f}"[:-3])


def check_export(url: str, out: Path, hist: dict[int, dict], decided: list[dict], horizon: str,
                 python: list[str], problems: list[str], timings: dict) -> None:
    exporter = ROOT / "export_history.py"
    t = time.monotonic()
    # The same predictions as `hist`: made before the minute after the newest one it has.
    to = (max(ts(p["made_at"]) for p in hist.values()) + timedelta(seconds=1)).isoformat()

    def run(name: str, *extra: str) -> Path | None:
        dest = out / name
        r = subprocess.run([*python, str(exporter), "--url", url, "--out", str(dest),
                            "--to", to, *extra],
                           capture_output=True, text=True, timeout=120)
        (out / f"{name}.log").write_text(r.stdout + r.stderr)
        if r.returncode != 0:
            problems.append(f"export_history {' '.join(extra)} failed: {r.stderr.strip()[-500:]}")
            return None
        say(r.stderr.strip().splitlines()[-1])
        return dest

    full = run("signals.csv")
    every = run("signals-all.csv", "--all")
    sub = run("signals-BTC.csv", "--coin", "BTC", "--horizon", horizon)
    timings["export_s"] = round(time.monotonic() - t, 2)
    if not (full and every and sub):
        return
    spec = importlib.util.spec_from_file_location("CoincastSignals",
                                                  ROOT / "strategies" / "CoincastSignals.py")
    cs = importlib.util.module_from_spec(spec)
    sys.modules["CoincastSignals"] = cs
    spec.loader.exec_module(cs)
    try:
        rows = cs.read_signal_file(full)
        rows_all = cs.read_signal_file(every)
    except ValueError as e:
        problems.append(f"the strategy's reader refused the export: {e}")
        return
    if not rows:
        problems.append("the export has no rows")
        return
    raw = list(csv.reader(full.open()))[1:]
    if any(not r[0].endswith("Z") for r in raw):
        problems.append("an exported published_at does not end in Z")
    pubs = [r.published_at for r in rows]
    if pubs != sorted(pubs):
        problems.append("the export is not oldest first")
    if {r.pair for r in rows} - {f"{c}/USDT" for c in COINS}:
        problems.append(f"unexpected pairs {sorted({r.pair for r in rows})}")
    if len(rows_all) != len(hist):
        problems.append(f"--all exported {len(rows_all)} rows, coincast stores {len(hist)}")
    lines = {tuple(r) for r in raw}
    for d in decided:
        p = hist[d["id"]]
        want = (p["published_at"], f"{p['coin']}/USDT", p["horizon"], p["signal"],
                repr(float(p["confidence"])))
        if want not in lines:
            problems.append(f"prediction {p['id']} the bot acted on is not in the export: {want}")
    sub_rows = list(csv.reader(sub.open()))[1:]
    expect = [r for r in raw if r[1] == "BTC/USDT" and r[2] == horizon]
    if sub_rows != expect:
        problems.append(f"--coin BTC --horizon {horizon}: {len(sub_rows)} rows, the full export "
                        f"has {len(expect)} such rows")
    say(f"export: {len(rows)} rows read back by the strategy's reader ({len(rows_all)} with "
        f"--all = coincast's {len(hist)} stored; BTC {horizon}: {len(sub_rows)})")


# ---- parent ----

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--horizon", choices=HORIZONS)
    ap.add_argument("--max-candles", type=int, default=3,
                    help="candles to decide when no trade opens [3]")
    ap.add_argument("--deadline-s", type=float, default=150,
                    help="stop freqtrade this long after this script started [150]")
    ap.add_argument("--require-trade", action="store_true",
                    help="fail unless a dry-run trade opened on a coincast LONG")
    ap.add_argument("--replay-csv", type=Path, default=BUNDLED_CSV)
    ap.add_argument("--export-python", default="python3",
                    help="the Python that runs export_history.py (with -I -S: no site-packages)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    url = args.url.rstrip("/")
    problems: list[str] = []
    notes: list[str] = []
    timings: dict[str, float] = {}

    # 1. coincast's current signals, and the horizon to trade.
    # The 4h/6h/12h entries fill a moment after the first tick (backfilled at start-up).
    for _ in range(60):
        snap = api(url, "/api/predictions")
        if all(e.get("prediction") for e in snap["predictions"]):
            break
        time.sleep(0.5)
    mode = snap.get("mode") or {}
    if mode.get("kind") != "replay" or not str(mode.get("dataset", "")).startswith(BUNDLED_ID):
        print(f"live smoke: FAIL: coincast must replay the bundled sample, mode is {mode}")
        return 1
    shift = int(mode["shift_seconds"])
    horizon, table = choose_horizon(snap, datetime.now(UTC))
    horizon = args.horizon or horizon
    print(table)
    say(f"trading horizon {horizon} (spot, long-only); replay shift {shift} s")

    # 2. The recording, checked against coincast's own candles; exchangeInfo for the pairs.
    rec = load_recording(args.replay_csv)
    mismatched = 0
    for coin in COINS:
        bars = [b for b in api(url, "/api/prices", coin=coin, resolution="1m",
                               **{"from": int(time.time()) - 40 * 60})["candles"]
                if b["closed"] and not b["filled"]]
        times, rows = rec[coin]
        for b in bars:
            t = int(ts(b["t"]).timestamp()) - shift
            i = bisect.bisect_left(times, t)
            if i >= len(times) or times[i] != t or rows[i] != (b["o"], b["h"], b["l"], b["c"],
                                                                b["v"]):
                mismatched += 1
        if not bars:
            problems.append(f"coincast has no closed {coin} minutes to compare")
    if mismatched:
        print(f"live smoke: FAIL: {mismatched} of coincast's minutes differ from {args.replay_csv}")
        return 1
    say("the stand-in's candles equal coincast's last 40 minutes (BTC LTC XRP)")
    import pandas as pd

    cdir = out / "candles"
    cdir.mkdir(exist_ok=True)
    for coin in COINS:
        times, rows = rec[coin]
        df = pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"])
        df.insert(0, "date", pd.to_datetime([(t + shift) for t in times], unit="s", utc=True))
        df.to_feather(cdir / f"{coin}_USDT-1m.feather")
    xinfo = out / "exchange-info"
    subprocess.run([sys.executable, str(REFEREE / "make_exchange_info.py"), "--datadir",
                    str(cdir), "--timeframe", "1m", "--pairs", *[f"{c}/USDT" for c in COINS],
                    "--out", str(xinfo)], check=True, capture_output=True)

    # 3. freqtrade.
    cfg = json.loads((ROOT / "examples" / "config-spot.json").read_text())
    cfg.update({
        "strategy_path": str(ROOT / "strategies"),
        "user_data_dir": str(out / "user_data"),
        "db_url": f"sqlite:///{out / 'dryrun.sqlite'}",
        "timeframe": "1m",
        "initial_state": "running",
        "internals": {"process_throttle_secs": 1},
    })
    cfg["exchange"]["pair_whitelist"] = [f"{c}/USDT" for c in COINS]
    cfg["exchange"]["enable_ws"] = False
    cfg["exchange"]["ccxt_config"] = {"options": {"fetchMarkets": {"types": ["spot"]}}}
    cfg["coincast"].update({"url": url, "horizon": horizon, "allow_replay": True})
    (out / "user_data").mkdir(exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg, indent=1))
    env = dict(os.environ, COINCAST_REFEREE_EXCHANGE_INFO=str(xinfo), TZ="UTC",
               PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    logf = out / "freqtrade.log"  # freqtrade's own log file (its console output: stdout.log)
    timings["setup_s"] = round(elapsed(), 2)
    say("starting freqtrade trade --dry-run (1m candles, BTC/USDT LTC/USDT XRP/USDT)")
    logf.write_text("")
    with (out / "stdout.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(out / "config.json"),
                                 str(args.replay_csv), str(shift)],
                                stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    (out / "freqtrade.pid").write_text(str(proc.pid))
    t_ft = time.monotonic()
    parsed: dict = {"polls": [], "decisions": [], "errors": [], "started": []}
    trades: list[dict] = []
    reported = 0
    try:
        while True:
            time.sleep(1)
            if proc.poll() is not None:
                problems.append(f"freqtrade exited early with status {proc.returncode}")
                break
            parsed = parse_log(logf.read_text(errors="replace"))
            trades = read_trades(out / "dryrun.sqlite")
            polls = parsed["polls"]
            if polls and "first_poll_s" not in timings:
                timings["freqtrade_first_poll_s"] = round(time.monotonic() - t_ft, 2)
                timings["first_poll_s"] = round(elapsed(), 2)
            for d in parsed["decisions"][reported:]:
                say(f"bot: {d['coin']} {d['candle']:%H:%M}: {d['text']}")
            reported = len(parsed["decisions"])
            candles = [p["candle"] for p in polls]
            settled = bool(polls) and len(
                {d["coin"] for d in parsed["decisions"] if d["candle"] == candles[-1]}) == 3
            if len(polls) >= 2 and settled and (trades or len(set(candles)) >= args.max_candles):
                time.sleep(2)  # let a trade of this candle land in the database
                parsed = parse_log(logf.read_text(errors="replace"))
                trades = read_trades(out / "dryrun.sqlite")
                break
            now = time.time()
            next_decision = ((now - 6) // TF_S + 1) * TF_S + 6  # the next boundary's poll
            if elapsed() + (next_decision - now) > args.deadline_s:
                if not (len(polls) >= 2 and settled):
                    problems.append(f"deadline {args.deadline_s:.0f} s: {len(polls)} polls")
                break
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    timings["freqtrade_s"] = round(time.monotonic() - t_ft, 2)
    say(f"freqtrade stopped after {timings['freqtrade_s']:.0f} s: {len(parsed['polls'])} polls, "
        f"{len(parsed['decisions'])} decisions, {len(trades)} trades")

    # 4. The checks.
    hist = history(url)
    if not parsed["started"] or f"trading {horizon} signals from {url}" not in parsed["started"][0]:
        problems.append(f"freqtrade did not log the strategy's start ({parsed['started']})")
    for e in parsed["errors"][:5]:
        problems.append(f"freqtrade logged: {e}")
    check_polls(parsed["polls"], hist, len(snap["predictions"]), problems, notes)
    judged = check_decisions(parsed["decisions"], parsed["polls"], hist, horizon, problems)
    t = time.monotonic()
    check_trades(trades, parsed["decisions"], hist, url, horizon, rec, shift,
                 T0 + args.deadline_s + 10, problems)
    timings["trade_checks_s"] = round(time.monotonic() - t, 2)  # waits for coincast's minute
    if not judged:
        problems.append("no decision judged a prediction of its own candle")
    text = logf.read_text(errors="replace") + (out / "stdout.log").read_text(errors="replace")
    if "Traceback" in (out / "stdout.log").read_text(errors="replace"):
        problems.append(f"a Traceback in {out / 'stdout.log'}")
    refused = sorted({ln.split("refused request to ")[1].split()[0].split("?")[0]
                      for ln in text.splitlines() if "refused request to " in ln})
    check_export(url, out, hist, [d for d in judged if d["id"] in hist], horizon,
                 [*args.export_python.split(), "-I", "-S"], problems, timings)

    # 5. Report.
    for p in parsed["polls"]:
        say(f"poll {p['at']:%H:%M:%S.%f}"[:-3] + f" for candle {p['candle']:%H:%M}: "
            f"{p['status']} ETag {p['etag']} (If-None-Match {p['inm']})")
    for n in notes:
        say(n)
    n304 = sum(p["status"] == 304 for p in parsed["polls"])
    signals = sorted({hist[d["id"]]["signal"] for d in judged if d["id"] in hist})
    acted = [f"{t['pair']} long at {t['open_rate']} ({t['enter_tag']}, opened {t['open_date']})"
             for t in trades]
    backfilled = [d["id"] for d in judged if d["text"].startswith("enter long")
                  and hist.get(d["id"], {}).get("backfilled")]
    summary = {
        "horizon": horizon, "polls": len(parsed["polls"]), "polls_304": n304,
        "decisions_on_own_candle": len(judged), "signals_judged": signals,
        "trades": acted, "trades_on_backfilled_predictions": backfilled,
        "refused_binance_calls": refused, "timings": timings,
    }
    if acted:
        say(f"ACTED ON A LONG: {len(acted)} dry-run trade(s): " + "; ".join(acted))
        if backfilled:
            say(f"  (predictions {backfilled} were backfilled: made from stored candles at "
                "coincast's start-up and published then)")
    else:
        say(f"NO TRADE: every signal the bot judged on its own candle was {'/'.join(signals)}: "
            "the bot logged it and made no trade, as the rule says")
        if args.require_trade:
            problems.append("--require-trade: no dry-run trade opened")
    say(f"refused Binance calls: {', '.join(refused) or 'none'}")
    timings["total_s"] = round(elapsed(), 2)
    summary["problems"] = problems
    (out / "live-smoke.json").write_text(json.dumps(summary, indent=1, default=str))
    say("timings: " + ", ".join(f"{k} {v}" for k, v in timings.items()))
    for p in problems:
        print(f"  - {p}")
    print(f"live smoke: {'FAIL' if problems else 'PASS'} ({len(judged)} decisions on their own "
          f"candle, {len(trades)} trades, {len(parsed['polls'])} polls ({n304} answered 304); "
          f"outputs in {out})")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(main())
