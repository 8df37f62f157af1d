"""A bot's view of the API: every route driven through the client that openapi-python-client
generates from openapi.yaml, asserting the typed models it parses (never None, never a raw dict).

Run by `scripts/test` (function `check_api_contract`) against a replaying server:
    COINCAST_URL=http://127.0.0.1:PORT pytest scripts/contract  (with the generated `coincast_api_client` on PYTHONPATH)
"""

import datetime
import json
import os
import time

import httpx
import pytest

from coincast_api_client import Client
from coincast_api_client.api.data import get_latest_prices, get_prices, get_sources
from coincast_api_client.api.health import get_health
from coincast_api_client.api.predictions import (
    get_accuracy,
    get_coins,
    get_history,
    get_model,
    get_models,
    get_performance,
    get_predictions,
)
from coincast_api_client.models import (
    AccuracyResponse,
    ApiErrorBody,
    CandlesResponse,
    Coin,
    CoinInfo,
    CoinsResponse,
    ErrorCode,
    EventType,
    HealthResponse,
    Horizon,
    LatestPrediction,
    ModelInfo,
    ModelsResponse,
    PerformanceResponse,
    Prediction,
    PredictionEvent,
    PredictionHistory,
    PredictionsResponse,
    PriceEvent,
    PricesResponse,
    ReplayMode,
    ResetEvent,
    Resolution,
    ScoreEvent,
    SkippedEvent,
    SourcesResponse,
)
from coincast_api_client.types import Unset

URL = os.environ["COINCAST_URL"]
FRAMES = {
    "prediction": PredictionEvent,
    "score": ScoreEvent,
    "price": PriceEvent,
    "skipped": SkippedEvent,
    "reset": ResetEvent,
}


@pytest.fixture(scope="module")
def client():
    with Client(base_url=URL, timeout=httpx.Timeout(30.0), raise_on_unexpected_status=True) as c:
        yield c


def typed(value, cls):
    assert isinstance(value, cls), f"expected {cls.__name__}, got {type(value).__name__}: {value!r}"
    return value


def test_health_and_sources_say_replay(client):
    health = typed(get_health.sync(client=client), HealthResponse)
    typed(health.mode, ReplayMode)
    sources = typed(get_sources.sync(client=client), SourcesResponse)
    typed(sources.mode, ReplayMode)
    assert sources.sources


def test_the_served_coins_are_the_coin_enum(client):
    coins = typed(get_coins.sync(client=client), CoinsResponse)
    # The default deployment: ten coins, in the configured order.
    assert [typed(c, CoinInfo).coin for c in coins.coins] == [
        Coin.BTC, Coin.ETH, Coin.SOL, Coin.XRP, Coin.LTC, Coin.DOGE, Coin.ADA, Coin.BCH, Coin.LINK, Coin.AVAX
    ]
    assert [c.name for c in coins.coins][:4] == ["Bitcoin", "Ethereum", "Solana", "Ripple"]
    for c in coins.coins:
        assert [h.value for h in c.horizons] == ["30m", "1h", "2h", "4h", "6h", "12h"]
        assert 0 <= c.models_beating_baseline <= 6


def test_enum_members_are_named_after_their_values():
    # `x-enum-varnames` in the document: `Horizon.H1`, not `Horizon.VALUE_1` (the generator sorts
    # members by name, so compare as mappings).
    assert Horizon.H1.value == "1h"
    assert {h.name: h.value for h in Horizon} == {
        "M30": "30m", "H1": "1h", "H2": "2h", "H4": "4h", "H6": "6h", "H12": "12h"
    }
    assert {r.name: r.value for r in Resolution} == {
        "M1": "1m", "M5": "5m", "M15": "15m", "H1": "1h", "D1": "1d"
    }


def test_predictions_carry_ids_freshness_and_skill(client):
    resp = typed(get_predictions.sync(client=client, coin=Coin.BTC, horizon=Horizon.H1), PredictionsResponse)
    (entry,) = resp.predictions
    typed(entry, LatestPrediction)
    assert entry.coin == Coin.BTC and entry.horizon == Horizon.H1
    p = typed(entry.prediction, Prediction)
    assert isinstance(p.id, int) and p.id > 0
    assert isinstance(p.published_at, datetime.datetime) and isinstance(p.valid_until, datetime.datetime)
    assert p.valid_until > p.made_at
    skill = entry.skill
    assert skill.model_id == p.model_id
    assert isinstance(skill.beats_baseline, bool) and skill.out_of_sample is True
    assert 0.0 <= skill.p_value <= 1.0
    assert isinstance(entry.accuracy_7d.out_of_sample, bool)
    # Every coin and horizon, unfiltered.
    everything = typed(get_predictions.sync(client=client), PredictionsResponse)
    assert len(everything.predictions) == 60


def test_etags_give_304s_weak_or_strong(client):
    first = get_predictions.sync_detailed(client=client)
    assert first.status_code == 200
    typed(first.parsed, PredictionsResponse)
    etag = first.headers["etag"]
    for tag in (etag, f"W/{etag}"):
        again = get_predictions.sync_detailed(client=client, if_none_match=tag)
        assert again.status_code in (200, 304)  # 200 only if a tick landed in between
        if again.status_code == 304:
            assert again.headers["etag"] == etag
    for op in (get_models, get_accuracy, get_latest_prices, get_sources, get_performance):
        r = op.sync_detailed(client=client)
        assert r.status_code == 200 and r.headers["etag"] and r.headers["cache-control"], op.__name__
    # A declared 304 (an undeclared status would raise here).
    perf = get_performance.sync_detailed(client=client)
    typed(perf.parsed, PerformanceResponse)
    again = get_performance.sync_detailed(client=client, if_none_match=perf.headers["etag"])
    assert again.status_code in (200, 304)  # 200 only if a tick landed in between


def test_candles_say_whether_they_are_closed(client):
    resp = typed(
        # The default replay's candles are 5 minutes long (a 1m chart is a 400 there).
        get_prices.sync(client=client, coin=Coin.LTC, resolution=Resolution.M5),
        CandlesResponse,
    )
    assert resp.candles
    assert all(isinstance(c.closed, bool) for c in resp.candles)
    assert resp.candles[0].closed
    # Unix seconds and RFC 3339 both work; a range from long ago is moved up to the widest one.
    old = typed(get_prices.sync(client=client, coin=Coin.BTC, from_=0), CandlesResponse)
    assert old.from_ > datetime.datetime(2009, 1, 1, tzinfo=datetime.timezone.utc)


def test_history_pages_with_a_cursor(client):
    page = typed(get_history.sync(client=client, coin=Coin.BTC, step_minutes=1, limit=3), PredictionHistory)
    assert len(page.predictions) == 3
    assert isinstance(page.next_cursor, str)
    older = typed(
        get_history.sync(client=client, coin=Coin.BTC, step_minutes=1, limit=3, cursor=page.next_cursor),
        PredictionHistory,
    )
    ids = {p.id for p in page.predictions}
    assert not ids & {p.id for p in older.predictions}


def test_accuracy_and_models(client):
    acc = typed(get_accuracy.sync(client=client, horizon=Horizon.H4), AccuracyResponse)
    assert {r.horizon for r in acc.rows} == {Horizon.H4}
    models = typed(get_models.sync(client=client), ModelsResponse)
    first = models.models[0]
    one = typed(get_model.sync(client=client, id=first.id), ModelInfo)
    assert one.id == first.id
    assert one.walk_forward.out_of_sample is True
    assert one.walk_forward.accuracy_vs_coverage
    missing = get_model.sync_detailed(client=client, id="DOGE-1h-00000000")
    assert missing.status_code == 404
    assert typed(missing.parsed, ApiErrorBody).code == ErrorCode.NOT_FOUND


def test_errors_are_typed_and_name_the_parameter(client):
    raw = client.get_httpx_client()
    for query, parameter in (("horizn=1h", "horizn"), ("coin=BTC&coin=LTC", "coin"), ("coin=btc", "coin")):
        r = raw.get(f"/api/predictions?{query}")
        assert r.status_code == 400, query
        body = ApiErrorBody.from_dict(r.json())
        assert body.code == ErrorCode.INVALID_PARAMETER and body.parameter == parameter, body


def read_frames(response, count, deadline):
    """The first `count` events of an open stream, as typed frames."""
    frames, fields = [], {}
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            break
        if line == "":
            if "event" in fields:
                frame = {"event": fields["event"], "id": int(fields["id"]), "data": json.loads(fields["data"])}
                frames.append(FRAMES[frame["event"]].from_dict(frame))
                if len(frames) >= count:
                    break
            fields = {}
        elif not line.startswith(":") and ":" in line:
            name, _, value = line.partition(":")
            fields[name] = value.lstrip(" ")
    return frames


def test_the_stream_filters_and_resumes_with_the_same_ids(client):
    raw = client.get_httpx_client()
    params = {"coin": Coin.BTC.value, "type": EventType.PRICE.value, "last_event_id": "0"}
    # A price event comes with each replayed minute; on a loaded 2-core machine the start-up
    # backfill can hold the candle job back past the first minute, so allow two and a half.
    deadline = time.monotonic() + 150
    with raw.stream("GET", "/api/stream", params=params, timeout=httpx.Timeout(160.0)) as r:
        assert r.status_code == 200
        first = read_frames(r, 2, deadline)
    assert len(first) >= 2, "no BTC price events within 150 s"
    assert all(isinstance(f, PriceEvent) and f.data.coin == Coin.BTC for f in first)
    assert first[0].id < first[1].id
    # Resume after the first: the second comes again with the same id (header this time).
    headers = {"Last-Event-ID": str(first[0].id)}
    params = {"coin": "BTC", "type": "price"}
    with raw.stream("GET", "/api/stream", params=params, headers=headers, timeout=httpx.Timeout(100.0)) as r:
        again = read_frames(r, 1, time.monotonic() + 30)
    assert again and again[0].id == first[1].id and again[0].data.at == first[1].data.at
    # Predictions of one horizon: typed, with ids.
    # On the default replay's 5-minute candles the next 30 min prediction comes within 5 minutes.
    params = {"horizon": "30m", "type": "prediction", "last_event_id": "0"}
    with raw.stream("GET", "/api/stream", params=params, timeout=httpx.Timeout(340.0)) as r:
        preds = read_frames(r, 1, time.monotonic() + 330)
    assert preds and isinstance(preds[0], PredictionEvent)
    assert preds[0].data.horizon == Horizon.M30 and preds[0].data.id > 0
    assert not isinstance(preds[0].data.valid_until, Unset)
    # A resume from beyond the sequence (a reset or restored server) is told so at once.
    params = {"last_event_id": "999999999"}
    with raw.stream("GET", "/api/stream", params=params, timeout=httpx.Timeout(30.0)) as r:
        reset = read_frames(r, 1, time.monotonic() + 20)
    assert reset and isinstance(reset[0], ResetEvent), reset
    assert reset[0].data.requested_id == 999999999 and reset[0].id == reset[0].data.newest_id
