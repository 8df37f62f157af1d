//! Training and serving agree, and retraining is gated: the engine's features at minute `t` are
//! training's row at `t` (one bar builder; the cross-section block too); a scheduled retrain on replayed plus imported data
//! records its decision; a challenger trained on shuffled labels is refused; a challenger that
//! beats a starved champion but not the no-skill forecast is refused too.

use std::sync::Arc;

use apalis::prelude::Data;
use apalis_cron::Tick;
use coincast::commands::import::import_file;
use coincast::commands::train::histories_from_db;
use coincast::db::entities::{model_version, prediction as model_prediction};
use coincast::jobs::{Job, JobCtx, Runner, handle_tick};
use coincast::predict::features::{Reads, features_at};
use coincast::predict::retrain::{self, Options, Progress, Report};
use coincast::predict::tick;
use models::features::FeatureSpec;
use models::gate::Decision;
use models::train::{CrossSectionUse, Pool, default_plan, train_one};
use sea_orm::EntityTrait;
use shared::{Coin, GateDecision, Horizon, ModelsResponse};

use crate::helpers::{Frontend, TestApp, repo_root};

/// Real 5-minute Binance BTC/USDT candles, 2025-06-21 to 2025-06-30 (cut from
/// `../shared/data/binance-5m-1h-2024-09_2025-06`).
pub(crate) fn five_minutes() -> std::path::PathBuf {
    repo_root().join("server/tests/fixtures/BTC_USDT-5m-2025-06.json")
}

/// A server replaying the bundled sample, its five days of warm-up stored; `tweak` changes the
/// settings first. Returns the app and the minute after the newest stored candle.
async fn replaying(tweak: impl FnOnce(&mut coincast::config::Settings)) -> (TestApp, i64) {
    replaying_with(Frontend::Fixture, tweak).await
}

/// [`replaying`], serving `frontend`.
pub(crate) async fn replaying_with(
    frontend: Frontend,
    tweak: impl FnOnce(&mut coincast::config::Settings),
) -> (TestApp, i64) {
    replaying_at(coincast::clock::Clock::system(), frontend, tweak).await
}

/// [`replaying_with`] on `clock`: on a [`Clock::fixed`](coincast::clock::Clock::fixed) one the
/// replay's shift, so every shifted time (and the hour of day and day of week a scale-free model
/// reads), is the same in every run.
pub(crate) async fn replaying_at(
    clock: coincast::clock::Clock,
    frontend: Frontend,
    tweak: impl FnOnce(&mut coincast::config::Settings),
) -> (TestApp, i64) {
    let app = crate::helpers::spawn_app_at(clock, frontend, |s| {
        s.replay.enabled = true;
        s.jobs.enabled = false;
        s.retrain.coins = vec![Coin::BTC];
        s.retrain.horizons = vec![Horizon::M30];
        s.retrain.window_days = 2;
        s.retrain.epochs = 4;
        tweak(s);
    })
    .await;
    let upstream = crate::helpers::default_settings().upstream;
    Runner::collecting(app.collectors(upstream))
        .run(Job::Candles)
        .await
        .unwrap();
    let newest = crate::helpers::newest_minute_of_every_coin(&app).await;
    (app, newest + 60)
}

/// The app's runner with its registry and the retrain settings of `settings`.
pub(crate) fn runner(app: &TestApp, settings: &coincast::config::Settings) -> Arc<Runner> {
    let upstream = crate::helpers::default_settings().upstream;
    let mut runner = app.runner(app.collectors(upstream));
    runner.registry = Some(app.state.registry.clone());
    runner.retrain = settings.retrain.clone();
    Arc::new(runner)
}

struct Quiet;

impl Report for Quiet {
    fn step(&self, _: &Progress) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

#[tokio::test]
async fn the_engines_features_at_minute_t_are_trainings_row_at_t_for_every_shipped_model() {
    let (app, t) = replaying(|_| {}).await;
    let histories = histories_from_db(&app.state.db, &crate::helpers::COINS, i64::MIN, t)
        .await
        .unwrap();
    let pool = Pool::new(histories.clone());
    let every_coin: Vec<String> = crate::helpers::COINS
        .iter()
        .map(|c| c.ticker().to_owned())
        .collect();
    let mut compared = 0;
    for model in app.state.registry.all() {
        let c = &model.card;
        let history = histories.iter().find(|h| h.coin == c.coin).unwrap();
        let mut plan = default_plan(c.horizon, (c.features.bar_seconds / 60) as u32);
        plan.bar_s = c.features.bar_seconds;
        plan.pool = pool.clone();
        // The model's own spec (series included), and the same with the cross-section of every
        // served coin, which no shipped model reads yet: the other coins' stored minutes.
        let with_market = FeatureSpec {
            market: every_coin.clone(),
            ..model.spec.clone()
        };
        for spec in [&model.spec, &with_market] {
            // Training's rows for the spec, from the stored minutes.
            let rows = history.dataset(spec, &plan);
            assert!(rows.len() > 50, "{}: {} rows", c.id, rows.len());
            let reads = Reads {
                spec,
                ..model.reads()
            };
            // The engine at the same minutes: the newest rows, and some far back.
            let picks: Vec<usize> = (0..rows.len()).rev().step_by(rows.len() / 7 + 1).collect();
            for i in picks {
                let at = rows.ts[i];
                let (x, reference) = features_at(&app.state.db, reads, 60, at)
                    .await
                    .unwrap()
                    .unwrap_or_else(|reason| panic!("{} at {at}: {reason}", c.id));
                assert_eq!(
                    x, rows.x[i],
                    "{} at {at}: the engine's features differ from training's ({:?})",
                    c.id, spec.market
                );
                assert!(reference > 0.0);
                compared += 1;
            }
            // Every row is a time the engine predicts at.
            assert!(rows.ts.iter().all(|&at| tick::due(c.horizon, 60, at)), "{}", c.id);
        }
    }
    assert!(compared >= 2 * 18 * 7, "{compared}");
}

#[tokio::test]
async fn a_scheduled_retrain_on_replayed_and_imported_data_records_its_decision() {
    let mut settings = None;
    let (app, _) = replaying(|s| settings = Some(s.clone())).await;
    let settings = settings.unwrap();
    import_file(&app.state.db, &five_minutes(), &mut |_| {})
        .await
        .unwrap();
    let ctx = Data::new(JobCtx {
        runner: runner(&app, &settings),
        job: Job::Retrain,
        retries: 0,
        backoff: std::time::Duration::from_millis(1),
    });
    handle_tick(Tick::new(0), ctx).await.unwrap();

    let rows = model_version::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(
        rows.len(),
        1,
        "one coin and horizon in the settings: one decision"
    );
    let row = &rows[0];
    assert_eq!((row.coin, row.horizon), (shared::Coin::BTC, shared::Horizon::M30));
    assert!(row.model_id.starts_with("BTC-30m-"), "{row:?}");
    assert!(row.n >= 200, "{} rows in the window", row.n);
    assert!(row.dm_statistic.is_some() && row.p_value.is_some());
    assert!(!row.reason.is_empty());
    // The challenger learnt before the window, a horizon apart (the embargo).
    assert!(row.trained_to.unwrap() + 1800 <= row.window_from, "{row:?}");
    assert!(
        !row.champion_in_sample,
        "the shipped model never saw the replayed minutes' stored times"
    );
    // Its files are content-addressed.
    let store = app.data_dir.path().join("models");
    let names: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("BTC-30m-") && n.len() > 64),
        "{names:?}"
    );
    // Pooled as `coincast train` pools: the served coins' stored candles are in the pool (the
    // settings retrain BTC alone), and the pooled candidates were scored beside the per-coin ones.
    let card_file = names.iter().find(|n| n.ends_with(".json")).unwrap();
    let card: models::card::ModelCard =
        serde_json::from_slice(&std::fs::read(store.join(card_file)).unwrap()).unwrap();
    assert!(
        card.selection.iter().any(|c| c.pooled) && card.selection.iter().any(|c| !c.pooled),
        "{:?}",
        card.selection
    );
    // The job recorded its run, the progress is stored, and the API shows the decision.
    app.refresh().await;
    let body: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    let retrain = body.retrain.expect("the retrain's progress");
    assert!(
        !retrain.running && retrain.done == 1 && retrain.total == 1,
        "{retrain:?}"
    );
    let btc = body
        .models
        .iter()
        .find(|m| m.coin == Coin::BTC && m.horizon == Horizon::M30)
        .unwrap();
    assert_eq!(btc.version.decisions.len(), 1);
    assert_eq!(btc.version.decisions[0].challenger_id, row.model_id);
    assert_eq!(btc.version.decisions[0].n as i64, row.n);
    let sources = coincast::db::status::all(&app.state.db).await.unwrap();
    assert!(
        sources
            .iter()
            .any(|s| s.source == "job/retrain" && s.last_success_at.is_some()),
        "{sources:?}"
    );
}

#[tokio::test]
async fn a_challenger_trained_on_shuffled_labels_is_refused() {
    let (app, t) = replaying(|_| {}).await;
    import_file(&app.state.db, &five_minutes(), &mut |_| {})
        .await
        .unwrap();
    let before = app
        .state
        .registry
        .get(Coin::BTC, Horizon::M30)
        .unwrap()
        .card
        .id
        .clone();
    let options = Options {
        now: t,
        clock: coincast::clock::Clock::system(),
        window_s: 2 * 86_400,
        history_s: 180 * 86_400,
        coins: vec![Coin::BTC],
        pool: vec![Coin::BTC],
        horizons: vec![Horizon::M30],
        epochs: 4,
        shuffle_labels: true,
        store_dir: app.data_dir.path().join("models"),
    };
    let outcomes = retrain::run(&app.state.db, &app.state.registry, &options, &Quiet)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.decision, Decision::Kept, "{o:?}");
    let r = o.result.as_ref().unwrap();
    eprintln!(
        "shuffled-labels challenger | n {} | log loss champion {:.5} challenger {:.5} | DM {:.2} p {:.4} | {}",
        r.n, r.champion.log_loss, r.challenger.log_loss, r.dm_statistic, r.p_value, o.reason
    );
    assert_eq!(
        app.state.registry.get(Coin::BTC, Horizon::M30).unwrap().card.id,
        before
    );
    let row = model_version::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.decision, model_version::Decision::Kept);
    assert!(
        row.card.is_none() && row.onnx.is_none(),
        "a kept challenger is not stored to serve"
    );
}

/// A models folder holding every shipped model but BTC's 30 min one (a test adds its own).
fn shipped_but_btc_30m() -> tempfile::TempDir {
    let models = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo_root().join("models/artifacts")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("BTC-30m") {
            std::fs::copy(&path, models.path().join(name)).unwrap();
        }
    }
    models
}

/// When the starved-champion test stands (2026-12-06 20:28:30 UTC, 30 s into a minute): a fixed
/// time, so its replay and its figures are the same in every run. The scenario needs a window on
/// which the challenger does beat the starved champion; on the system clock that depended on the
/// minute the suite ran at (the shift moves the 5-minute grid and the hours the scale-free
/// features read): scanning 16 minutes around this one, it did at 3 and lost or tied at 13, and a
/// CI run failed on one of those.
const STARVED_AT: i64 = 1_796_588_910;

#[tokio::test]
async fn a_challenger_that_beats_a_starved_champion_but_not_the_no_skill_forecast_is_kept() {
    // The champion: a 30 min BTC model trained on the first two days of the imported minutes only
    // (too little data: on the window it is worse than a coin flip), served beside the 17
    // shipped others. The challenger, trained on more, beats it; on two days of real 30 min BTC
    // it does not beat the constant share of UP of its own training rows, so the gate keeps the
    // champion: beating a model worse than a constant proves nothing.
    let models = shipped_but_btc_30m();
    let text = std::fs::read_to_string(five_minutes()).unwrap();
    let parsed = models::history::parse(&text).unwrap();
    let little = models::train::CoinHistory {
        coin: Coin::BTC,
        parts: vec![models::train::BaseBars {
            bars: parsed.bars[..1300].to_vec(),
            interval_s: parsed.interval_s,
        }],
        sources: vec!["BTC_USDT-5m-2025-06.json (first 1300 bars)".into()],
        series: Default::default(),
        series_sources: vec![],
    };
    let mut plan = default_plan(Horizon::M30, 5);
    plan.train.epochs = 4;
    // The price block as the shipped models have it (not scale-free): on these two days it
    // learns a pattern that then fails, which is what this champion is for.
    plan.spec.scaled = false;
    let starved = train_one(&little, &plan, None, &mut |_| {}).unwrap();
    models::train::write(&starved, models.path()).unwrap();
    let dir = models.path().to_path_buf();
    let mut settings = None;
    // On a fixed clock: the challenger reads the hour of day and day of week of the shifted
    // times, so on the system clock its figures (and whether it beats this champion) moved with
    // the time of day the suite ran at.
    let (app, t) = replaying_at(
        coincast::clock::Clock::fixed(STARVED_AT),
        Frontend::Fixture,
        |s| {
            s.models.dir = dir;
            settings = Some(s.clone());
        },
    )
    .await;
    let settings = settings.unwrap();
    assert_eq!(
        app.state.registry.get(Coin::BTC, Horizon::M30).unwrap().card.id,
        starved.card.id
    );
    // A model trained now carries its calibration, confidence deciles and feature importance to
    // the API.
    let listed: shared::ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    let m = listed.models.iter().find(|m| m.id == starved.card.id).unwrap();
    let calibration = m.calibration.as_ref().expect("a calibrated model");
    assert_eq!(calibration.method, "platt");
    assert!(
        calibration.log_loss_after <= calibration.log_loss_before + 1e-9,
        "{calibration:?}"
    );
    let deciles = &m.walk_forward.confidence_deciles;
    assert_eq!(deciles.len(), 10);
    assert_eq!(deciles.iter().map(|d| d.n).sum::<u32>(), m.walk_forward.n);
    for d in deciles {
        assert!(
            d.n_effective <= f64::from(d.n) && d.wilson_low <= d.accuracy && d.accuracy <= d.wilson_high,
            "{d:?}"
        );
    }
    assert!(
        deciles
            .windows(2)
            .all(|w| w[0].min_confidence <= w[1].min_confidence)
    );
    assert_eq!(m.importance.len() as u32, m.features);
    assert_eq!(
        m.configurations_tried,
        Some((3 * models::strategy::THRESHOLD_GRID.len()) as u32)
    );
    import_file(&app.state.db, &five_minutes(), &mut |_| {})
        .await
        .unwrap();

    let runner = runner(&app, &settings);
    let outcomes = runner.retrain(t).await.unwrap();
    let o = &outcomes[0];
    let r = o.result.as_ref().unwrap();
    eprintln!(
        "starved champion vs challenger | n {} | log loss champion {:.5} challenger {:.5} | DM {:.2} p {:.4} | {}",
        r.n, r.champion.log_loss, r.challenger.log_loss, r.dm_statistic, r.p_value, o.reason
    );
    assert!(
        r.dm_statistic > models::gate::DM_CRITICAL,
        "the challenger does beat the starved champion: {o:?}"
    );
    assert!(r.champion.log_loss > std::f64::consts::LN_2, "{o:?}");
    let constant = r
        .no_skill
        .expect("the no-skill forecast is part of every decision");
    assert!(constant.dm_statistic <= models::gate::DM_CRITICAL, "{constant:?}");
    let trained_up_rate = o.challenger.as_ref().and_then(|(c, _)| c.training.up_rate);
    assert_eq!(
        Some(constant.up_rate),
        trained_up_rate,
        "fixed before the window, on training rows"
    );
    assert_eq!(o.decision, Decision::Kept, "{o:?}");
    assert!(o.reason.contains("not the no-skill forecast"), "{}", o.reason);
    assert_eq!(
        app.state.registry.get(Coin::BTC, Horizon::M30).unwrap().card.id,
        starved.card.id,
        "the champion still serves"
    );
    // The decision and its reason are recorded and shown.
    app.refresh().await;
    let body: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    let btc = body
        .models
        .iter()
        .find(|m| m.coin == Coin::BTC && m.horizon == Horizon::M30)
        .unwrap();
    assert_eq!(btc.id, starved.card.id);
    assert_eq!(btc.version.decisions[0].decision, GateDecision::Kept);
    assert!(
        btc.version.decisions[0].reason.contains("no-skill"),
        "{}",
        btc.version.decisions[0].reason
    );
}

/// When the cross-section test stands: a fixed clock, so both apps below replay the same minutes.
const CROSS_AT: i64 = 1_796_588_910;

/// A model that must read the cross-section (BTC's 30 min model on BTC, LTC and XRP), trained on
/// the replay's stored minutes, is served: the card and `/api/models` name its coins, and the
/// tick (reading the other coins' minutes) and the start-up backfill store what the model gives on
/// the trainer's row at that minute.
#[tokio::test]
async fn a_cross_section_model_is_served_on_the_trainers_features() {
    let clock = || coincast::clock::Clock::fixed(CROSS_AT);
    let (app, t) = replaying_at(clock(), Frontend::Fixture, |_| {}).await;
    let histories = histories_from_db(&app.state.db, &crate::helpers::COINS, i64::MIN, t)
        .await
        .unwrap();
    let mut plan = default_plan(Horizon::M30, 5);
    plan.train.epochs = 2;
    plan.cross_section = CrossSectionUse::Only;
    plan.pool = Pool::new(histories.clone());
    let btc = histories.iter().find(|h| h.coin == Coin::BTC).unwrap();
    let trained = train_one(btc, &plan, None, &mut |_| {}).unwrap();
    assert_eq!(trained.card.features.market, ["BTC", "LTC", "XRP"]);
    assert!(trained.card.features.names.iter().any(|n| n == "xs_rank_1b"));
    drop(app);
    let models = shipped_but_btc_30m();
    models::train::write(&trained, models.path()).unwrap();
    let dir = models.path().to_path_buf();
    let (app, t2) = replaying_at(clock(), Frontend::Fixture, |s| s.models.dir = dir).await;
    assert_eq!(t2, t);
    let model = app.state.registry.get(Coin::BTC, Horizon::M30).unwrap();
    assert_eq!(model.card.id, trained.card.id);
    let listed: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    let m = listed.models.iter().find(|m| m.id == trained.card.id).unwrap();
    assert_eq!(m.cross_section, [Coin::BTC, Coin::LTC, Coin::XRP]);
    // The trainer's rows, and the engine at the newest of them (and at an older one the
    // start-up backfill made).
    let rows = btc.dataset(&model.spec, &plan);
    let stored = |at: i64| {
        let db = app.state.db.clone();
        async move {
            use sea_orm::{ColumnTrait, QueryFilter};
            model_prediction::Entity::find()
                .filter(model_prediction::Column::Coin.eq(Coin::BTC))
                .filter(model_prediction::Column::Horizon.eq(Horizon::M30))
                .filter(model_prediction::Column::MadeAt.eq(at))
                .one(&db)
                .await
                .unwrap()
        }
    };
    let newest = rows.len() - 1;
    let at = rows.ts[newest];
    let kept = coincast::predict::minutes::MinuteCache::default();
    let outcome = tick::tick(&app.state.db, &app.state.registry, &kept, 60, at, t)
        .await
        .unwrap();
    assert!(
        !outcome
            .skipped
            .iter()
            .any(|(c, h, _)| (*c, *h) == (Coin::BTC, Horizon::M30)),
        "{:?}",
        outcome.skipped
    );
    let row = stored(at).await.expect("the tick's prediction");
    let want = model.predict(&rows.x[newest]).unwrap();
    assert!((row.p_up - want).abs() < 1e-9, "{} != {want}", row.p_up);
    // The start-up backfill (production's) predicts a past hour the same way.
    let back = (t - 3 * 3600) / 3600 * 3600;
    let backfilled = rows
        .ts
        .iter()
        .position(|&at| at == back)
        .expect("a row three hours back");
    tick::backfill(&app.state.db, &app.state.registry, 60, back + 60, 1, 3600)
        .await
        .unwrap();
    let row = stored(back).await.expect("a backfilled prediction");
    assert!(row.backfilled);
    let want = model.predict(&rows.x[backfilled]).unwrap();
    assert!((row.p_up - want).abs() < 1e-9, "{} != {want}", row.p_up);
}
