//! `cargo bench -p server`: what a prediction tick costs on this machine, from the database to
//! the stored prediction (features read from SQLite, tract inference, insert), on the default
//! deployment (ten coins) replaying the bundled 5-minute sample with its five days of warm-up.
//! Speed is measured here, never asserted in tests.
//!
//! - `tick/30 models`: a 5-minute tick (30 min, 1 h and 2 h for ten coins);
//! - `tick/60 models`: a quarter-hour tick (all six horizons);
//! - `tick parts/*`: where a quarter-hour tick's time goes (reading the candles whole or as the
//!   ticks keep them, features and inference);
//! - `score_due`: scoring the predictions whose target has passed (none pending: the query cost).

// A benchmark, like a test, stops at the first thing that is not as set up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use coincast::collect::replay::Replay;
use coincast::collect::run::Collectors;
use coincast::config::Settings;
use coincast::db;
use coincast::jobs::{Job, Runner};
use coincast::predict::minutes::{MinuteCache, Read};
use coincast::predict::registry::Registry;
use coincast::predict::{features, score, tick};
use criterion::{Criterion, criterion_group, criterion_main};
use shared::Coin;

fn bench_tick(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let (conn, registry, quarter) = rt.block_on(async {
        let mut settings: Settings = Settings::defaults()
            .unwrap()
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        settings.data_dir = data_dir.path().to_path_buf();
        let conn = db::connect(&settings).await.unwrap();
        db::migrate(&conn).await.unwrap();
        let replay = Arc::new(Replay::bundled(Default::default()).unwrap());
        Runner::collecting(
            Collectors::new(
                conn.clone(),
                settings.upstream.clone(),
                Some(replay),
                coincast::clock::Clock::system(),
            )
            .unwrap(),
        )
        .run(Job::Candles)
        .await
        .unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/artifacts");
        // The models of the coins the bundled replay holds (the default deployment's).
        let registry = Registry::load_serving(&root, &coincast::coins::DEFAULT).unwrap();
        // The newest quarter hour with stored candles before it: every model is due there.
        let newest = coincast::clock::current_minute();
        (conn, registry, newest / 900 * 900)
    });
    // The ticks keep their candles between runs, as the job runner does: after the first
    // iteration each reads only the newest ones from the database.
    let kept = MinuteCache::default();
    let base_s = 300;
    let mut group = c.benchmark_group("tick");
    group.sample_size(20);
    for (name, t) in [("30 models", quarter - base_s), ("60 models", quarter)] {
        let due = registry
            .all()
            .iter()
            .filter(|m| tick::due(m.card.horizon, base_s, t))
            .count();
        assert_eq!(name, format!("{due} models"));
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let outcome = tick::tick(&conn, &registry, &kept, base_s, t, coincast::clock::now())
                    .await
                    .unwrap();
                assert_eq!((outcome.made, outcome.skipped.len()), (due, 0), "{outcome:?}");
            })
        });
    }
    group.finish();
    // Where a quarter-hour tick's time goes: the reads, then the pure part (features and
    // inference for 60 models); the rest of `tick/60 models` is storing the rows.
    let mut parts = c.benchmark_group("tick parts");
    parts.sample_size(20);
    let models = registry.all();
    let reach = |coin: Coin| {
        models
            .iter()
            .filter(|m| m.card.coin == coin)
            .map(|m| features::reach_s(m.reads()))
            .max()
            .unwrap()
    };
    parts.bench_function("read candles whole, 10 coins", |b| {
        b.to_async(&rt).iter(|| async {
            for coin in coincast::coins::DEFAULT {
                db::candles::all_of(&conn, coin, base_s, quarter - reach(coin), quarter)
                    .await
                    .unwrap();
            }
        })
    });
    parts.bench_function("read candles kept, 10 coins", |b| {
        b.to_async(&rt).iter(|| async {
            for coin in coincast::coins::DEFAULT {
                let (_, read) = kept
                    .read(&conn, coin, base_s, quarter - reach(coin), quarter)
                    .await
                    .unwrap();
                assert_eq!(read, Read::Incremental);
            }
        })
    });
    let inputs = rt.block_on(async {
        let mut inputs = Vec::new();
        for coin in coincast::coins::DEFAULT {
            let minutes = db::candles::all_of(&conn, coin, base_s, quarter - reach(coin), quarter)
                .await
                .unwrap();
            let mine: Vec<_> = models.iter().filter(|m| m.card.coin == coin).cloned().collect();
            let series = mine
                .iter()
                .flat_map(|m| m.series.iter().copied())
                .collect::<Vec<_>>();
            let set = features::series_set(&conn, series, quarter).await.unwrap();
            inputs.push((mine, minutes, set));
        }
        inputs
    });
    // Every coin's minutes, for a model's cross-section block.
    let mut cross = models::features::CrossSection::default();
    for (mine, minutes, _) in &inputs {
        if let Some(m) = mine.first() {
            cross.add(m.card.coin, minutes, base_s);
        }
    }
    parts.bench_function("features and inference, 60 models", |b| {
        b.iter(|| {
            for (mine, minutes, set) in &inputs {
                for m in mine {
                    let (x, _) =
                        features::features_from(m.reads(), minutes, base_s, set, &cross, quarter).unwrap();
                    m.predict(&x).unwrap();
                }
            }
        })
    });
    parts.finish();
    c.bench_function("score_due", |b| {
        b.to_async(&rt).iter(|| async {
            score::score_due(&conn, base_s, coincast::clock::current_minute())
                .await
                .unwrap()
        })
    });
}

criterion_group!(benches, bench_tick);
criterion_main!(benches);
