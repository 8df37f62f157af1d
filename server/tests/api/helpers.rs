//! `spawn_app()` and what tests share.
//!
//! The database is a fresh SQLite file per test, or, with `COINCAST_TEST_DATABASE` set to a
//! PostgreSQL server's URL (`postgres://postgres@127.0.0.1:5432`), a fresh database per test on
//! that server (`coincast_test_<unique>`), dropped when the test's app is.

use std::path::{Path, PathBuf};

use std::future::Future;
use std::time::{Duration, Instant};

use clap::Parser;
use coincast::cli::Cli;
use coincast::clock::Clock;
use coincast::config::Settings;
use coincast::http::Application;
use coincast::http::state::AppState;

/// The coins of the suite's deployment: most tests run BTC, LTC and XRP replaying the bundled
/// minute sample (`binance-1m-2021-05`), a new candle every minute. The default deployment (ten
/// coins replaying 5-minute candles) has its own tests (`deployment.rs`), which set
/// [`default_deployment`].
pub const COINS: [shared::Coin; 3] = [shared::Coin::BTC, shared::Coin::LTC, shared::Coin::XRP];

/// Settings back to the default deployment: the ten default coins and the default bundled
/// replay sample (5-minute candles).
pub fn default_deployment(settings: &mut Settings) {
    settings.coins = coincast::coins::Coins::default();
    settings.replay.sample = coincast::config::ReplaySample::default();
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The built-in default settings (no file, no environment).
pub fn default_settings() -> Settings {
    Settings::defaults()
        .unwrap()
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap()
}

/// Which web app the test server serves.
pub enum Frontend {
    /// A tiny stand-in app (an index.html and one asset per type) written for the test, so that
    /// serving rules are tested without a WebAssembly build.
    Fixture,
    /// The real build in `frontend/dist` (browser tests; `scripts/build-frontend` makes it).
    Built,
}

/// The environment variable naming the PostgreSQL server the tests run against (none: SQLite).
pub const TEST_DATABASE_ENV: &str = "COINCAST_TEST_DATABASE";

/// The PostgreSQL server of this run (`COINCAST_TEST_DATABASE`, without a database name), if any.
pub fn postgres_server() -> Option<String> {
    std::env::var(TEST_DATABASE_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().trim_end_matches('/').to_owned())
}

/// Whether this run uses PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// On PostgreSQL, says why a test that only means something on SQLite does not run, and returns
/// `true` (the caller returns).
pub fn sqlite_only(reason: &str) -> bool {
    if on_postgres() {
        eprintln!("SKIPPED on PostgreSQL: {reason}");
        return true;
    }
    false
}

/// A database of its own on the test PostgreSQL server, dropped (its connections ended) when
/// this is.
pub struct PgDatabase {
    server: String,
    pub name: String,
}

impl PgDatabase {
    /// Creates `coincast_test_<unique>` on `server`.
    pub async fn create(server: &str) -> PgDatabase {
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "coincast_test_{}_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000_000,
            MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let admin = sea_orm::Database::connect(format!("{server}/postgres"))
            .await
            .expect("the test PostgreSQL server answers (COINCAST_TEST_DATABASE)");
        use sea_orm::ConnectionTrait;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        PgDatabase {
            server: server.to_owned(),
            name,
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime: a thread with a runtime of its own does the work.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                use sea_orm::ConnectionTrait;
                let admin = sea_orm::Database::connect(format!("{server}/postgres")).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}: {dropped:?}", self.name);
        }
    }
}

/// A running server on a free port with its own database (in a temporary directory, or on the
/// test PostgreSQL server).
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    settings: Settings,
    handle: actix_web::dev::ServerHandle,
    _dist: Option<tempfile::TempDir>,
    /// Declared last: dropped after everything that uses the database.
    pg: Option<std::sync::Arc<PgDatabase>>,
}

impl TestApp {
    /// The URL of this app's database (`sqlite://...` or `postgres://...`), for another process
    /// or a second app on the same data.
    pub fn database_url(&self) -> String {
        self.settings.database.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.path().join(coincast::db::SQLITE_FILE).display()
            )
        })
    }

    /// Another server on this app's database (as a second API process would be), with `tweak`
    /// applied to its settings; the database outlives both.
    pub async fn sibling(&self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let url = self.database_url();
        let pg = self.pg.clone();
        let mut app = spawn_app_at(self.state.clock.clone(), Frontend::Fixture, |s| {
            s.database.url = Some(url);
            tweak(s);
        })
        .await;
        app.pg = pg;
        app
    }

    /// Stops the server at once (open connections are dropped), as a crash or a deploy would.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }

    /// Starts the server again on the same port and database, as after a restart.
    pub async fn restart(&mut self) {
        let mut settings = self.settings.clone();
        settings.server.port = self.address.rsplit(':').next().unwrap().parse().unwrap();
        let app = Application::build_at(settings, self.state.clock.clone())
            .await
            .expect("the server restarts");
        self.state = app.state().clone();
        self.handle = app.handle();
        tokio::spawn(app.run_until_stopped());
    }

    /// Rebuilds the published answers after a test wrote to the database directly (the writers
    /// of the running service do this themselves when they commit).
    pub async fn refresh(&self) {
        self.state.published.refresh(&self.state).await.unwrap();
    }

    /// Collectors on this app's database, replay (if it replays) and clock, fetching from
    /// `upstream`.
    pub fn collectors(
        &self,
        upstream: coincast::config::UpstreamSettings,
    ) -> coincast::collect::run::Collectors {
        coincast::collect::run::Collectors::new(
            self.state.db.clone(),
            upstream,
            self.state.replay.clone(),
            self.state.clock.clone(),
        )
        .unwrap()
        .with_coins(self.state.coins.clone())
    }

    /// A job runner on this app's database that tells this app's published state, as the
    /// service's own runner does.
    pub fn runner(&self, collectors: coincast::collect::run::Collectors) -> coincast::jobs::Runner {
        coincast::jobs::Runner {
            collectors,
            registry: None,
            retention: Default::default(),
            predicted: Default::default(),
            minutes: Default::default(),
            retrain: Default::default(),
            store_dir: self.data_dir.path().join("models"),
            notify: Some(std::sync::Arc::new(coincast::http::published::Refresher(
                self.state.clone(),
            ))),
        }
    }

    /// `GET address + path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }
}

pub const FIXTURE_INDEX: &str = "<!doctype html><title>coincast test app</title><div id=fixture-app></div>";

fn fixture_dist() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), FIXTURE_INDEX).unwrap();
    let assets = dist.path().join("assets/0123abcd");
    std::fs::create_dir_all(&assets).unwrap();
    // The 8-byte header of an empty WebAssembly module.
    std::fs::write(assets.join("frontend_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(assets.join("frontend.js"), "export default function init() {}\n").unwrap();
    std::fs::write(assets.join("style.css"), "body { margin: 0 }\n").unwrap();
    dist
}

/// Starts the real server, as `coincast serve` would, on 127.0.0.1 and a free port, with the
/// scheduled collectors off (they would reach for the internet).
pub async fn spawn_app(frontend: Frontend) -> TestApp {
    spawn_app_with(frontend, |s| s.jobs.enabled = false).await
}

/// Like [`spawn_app`], with settings changed by `tweak` first (upstream URLs, jobs, replay).
pub async fn spawn_app_with(frontend: Frontend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_at(Clock::system(), frontend, tweak).await
}

/// Like [`spawn_app_with`], on `clock` (a [`Clock::fixed`] one: the minute turns only when the test
/// moves it).
pub async fn spawn_app_at(clock: Clock, frontend: Frontend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    coincast::collect::install_tls_provider();
    let data_dir = tempfile::tempdir().unwrap();
    let (dist_path, dist_guard) = match frontend {
        Frontend::Fixture => {
            let d = fixture_dist();
            (d.path().to_path_buf(), Some(d))
        }
        Frontend::Built => (repo_root().join("frontend/dist"), None),
    };
    let cli = Cli::parse_from([
        "coincast",
        "--data-dir",
        data_dir.path().to_str().unwrap(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]);
    let mut settings = Settings::load(&cli).unwrap();
    settings.frontend.dist_dir = dist_path;
    settings.server.workers = 2;
    settings.models.dir = repo_root().join("models/artifacts");
    settings.coins = coincast::coins::Coins::of(&COINS);
    settings.replay.sample = coincast::config::ReplaySample::Minutes2021;
    tweak(&mut settings);
    let pg = match (postgres_server(), &settings.database.url) {
        (Some(server), None) => {
            let db = PgDatabase::create(&server).await;
            settings.database.url = Some(db.url());
            Some(std::sync::Arc::new(db))
        }
        _ => None,
    };
    let settings_used = settings.clone();
    let app = Application::build_at(settings, clock)
        .await
        .expect("the server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        state,
        data_dir,
        settings: settings_used,
        handle,
        _dist: dist_guard,
        pg,
    }
}

/// The newest stored minute every coin has: when the minute turns during a collection run, the
/// coins collected after it have one minute more, and a tick at their newest + 60 would find
/// another coin's minute before it missing.
pub async fn newest_minute_of_every_coin(app: &TestApp) -> i64 {
    let mut newest = i64::MAX;
    for coin in COINS {
        let latest = coincast::db::candles::latest_of(&app.state.db, coin, 60)
            .await
            .unwrap();
        newest = newest.min(latest.expect("every coin has minutes").ts);
    }
    newest
}

/// A models folder with the shipped models and, for each of `extra`, copies of the shipped BTC
/// models relabelled as that coin: a test fixture for deployments serving coins the repo ships
/// no models of (their predictions come from BTC's weights on the coin's own candles; nothing
/// here is shipped or published).
pub fn models_with(extra: &[shared::Coin]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shipped = repo_root().join("models/artifacts");
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    for coin in extra {
        for h in shared::Horizon::ALL {
            let card = shipped.join(format!("BTC-{h}.json"));
            let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(card).unwrap()).unwrap();
            let onnx = format!("{coin}-{h}.onnx");
            json["coin"] = serde_json::json!(coin.ticker());
            json["id"] = serde_json::json!(json["id"].as_str().unwrap().replacen("BTC", coin.ticker(), 1));
            json["onnx_file"] = serde_json::json!(onnx);
            std::fs::copy(shipped.join(format!("BTC-{h}.onnx")), dir.path().join(&onnx)).unwrap();
            std::fs::write(
                dir.path().join(format!("{coin}-{h}.json")),
                serde_json::to_vec_pretty(&json).unwrap(),
            )
            .unwrap();
        }
    }
    dir
}

/// A models folder with only the shipped models of these coins and horizons.
pub fn models_only(which: &[(shared::Coin, shared::Horizon)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shipped = repo_root().join("models/artifacts");
    for (coin, h) in which {
        for ext in ["json", "onnx"] {
            let name = format!("{coin}-{h}.{ext}");
            std::fs::copy(shipped.join(&name), dir.path().join(&name)).unwrap();
        }
    }
    dir
}

/// The port a `coincast serve --port 0` child bound, from its log line `listening on
/// http://HOST:PORT` (no port is picked, freed and bound again: nothing can take it meanwhile).
pub fn listening_port(log: &str) -> Option<u16> {
    log.lines()
        .filter_map(|line| line.split("listening on http://").nth(1))
        .find_map(|rest| {
            rest.split(':')
                .nth(1)?
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
}

/// Gave up waiting: how long [`eventually`] waited.
#[derive(Debug)]
pub struct TimedOut(pub Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gave up after {:?}", self.0)
    }
}

/// Runs `check` until it gives `Some`, for at most `limit`, and returns what it gave (or
/// [`TimedOut`]). The one way a test waits for something another task or process does: it polls
/// (5 ms at first, backing off to 100 ms) and never sleeps and then asserts.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Result<T, TimedOut>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if started.elapsed() >= limit {
            return Err(TimedOut(started.elapsed()));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Stores `bars` as `coin`'s minute candles (source `test`), as a collection run would.
pub async fn store_minutes(
    db: &impl sea_orm::ConnectionTrait,
    coin: shared::Coin,
    bars: &[models::history::Bar],
) {
    coincast::db::candles::upsert_candles(db, coin, 60, bars, "test", coincast::clock::now(), &mut |_| {})
        .await
        .unwrap();
}
