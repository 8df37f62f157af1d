//! Staying alive: `/api/health` names a stalled job (and recovers when it runs again), a database
//! that goes down mid-run gives 503s and comes back without a restart, and start-up waits for a
//! database that comes up late. The PostgreSQL tests start a throwaway server of their own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::Data;
use apalis_cron::Tick;
use coincast::clock::Clock;
use coincast::jobs::{Job, JobCtx, Runner, handle_tick};
use shared::{ApiErrorBody, ErrorCode, HealthResponse, HealthStatus};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Frontend, TestApp, eventually, spawn_app_at, spawn_app_with};
use crate::upstream::{payload, upstream_settings};

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `/api/health` as it is now (`deep`: a check of the database made for this request).
async fn health(app: &TestApp) -> (u16, HealthResponse) {
    let res = app.get("/api/health?deep=1").await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn health_turns_degraded_naming_a_stalled_job_and_recovers_when_it_runs() {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.upstream.bitstamp = closed.clone();
        s.upstream.timeout_ms = 500;
        s.jobs.enabled = true;
        s.jobs.run_at_start = false;
        s.jobs.retries = 0;
        s.jobs.candles_cron = "* * * * * *".into();
        s.jobs.slow_cron = "0 0 0 1 1 * 2099".into();
        s.jobs.predict_cron = "0 0 0 1 1 * 2099".into();
        s.jobs.stall_after_s = 2;
        s.models.backfill_hours = 0;
    })
    .await;
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body:?}");
    assert!(body.jobs.iter().all(|j| !j.stalled), "{body:?}");
    let names: Vec<&str> = body.jobs.iter().map(|j| j.job.as_str()).collect();
    assert_eq!(
        names,
        [
            "candles",
            "chain",
            "tweets",
            "markets",
            "predict",
            "maintenance",
            "retrain"
        ]
    );
    // The worker's candle runs fail (nothing listens upstream); no success within the threshold.
    let body = eventually(Duration::from_secs(30), || async {
        let (status, body) = health(&app).await;
        let candles = body.jobs.iter().find(|j| j.job == "candles").unwrap();
        (status == 503 && candles.stalled && candles.last_error_at.is_some()).then_some(body)
    })
    .await
    .expect("the candles job shows as stalled");
    assert_eq!(body.status, HealthStatus::Degraded);
    assert!(body.database.reachable);
    let candles = body.jobs.iter().find(|j| j.job == "candles").unwrap();
    assert!(candles.last_success_at.is_none(), "{candles:?}");
    assert!(candles.last_error.is_some(), "{candles:?}");
    assert!(
        body.jobs
            .iter()
            .filter(|j| j.stalled)
            .all(|j| j.job == "candles" || j.job == "predict"),
        "only watched jobs stall: {body:?}"
    );

    // The handlers run successfully (what the workers do once upstream answers again).
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(payload("bitstamp_ohlc_btcusdt.json")))
        .mount(&server)
        .await;
    let runner = Arc::new(Runner::collecting(
        app.collectors(upstream_settings(&server, 2_000)),
    ));
    for job in [Job::Candles, Job::Predict] {
        let ctx = Data::new(JobCtx {
            runner: runner.clone(),
            job,
            retries: 0,
            backoff: Duration::from_millis(10),
        });
        handle_tick(Tick::new(0), ctx).await.unwrap();
    }
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body.status, HealthStatus::Ok);
    let candles = body.jobs.iter().find(|j| j.job == "candles").unwrap();
    assert!(
        candles.last_success_at.is_some() && !candles.stalled,
        "{candles:?}"
    );
}

#[tokio::test]
async fn health_reports_jobs_from_the_database_but_never_stalls_where_no_jobs_run() {
    let clock = Clock::fixed(1_800_000_000);
    let app = spawn_app_at(clock.clone(), Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.jobs.stall_after_s = 0;
    })
    .await;
    // A minute past the threshold (and within the published answers' own): a job this process
    // does not run never counts as stalled.
    assert!(clock.advance(60));
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body.jobs.len(), 7, "{body:?}");
    assert!(
        body.jobs
            .iter()
            .all(|j| !j.stalled && j.last_success_at.is_none())
    );
}

/// A throwaway PostgreSQL server in a temporary directory (stopped when dropped).
struct Pg {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_root: bool,
}

impl Pg {
    /// Initializes a cluster, not started. Fails without `initdb`: `scripts/test` installs
    /// PostgreSQL first (`scripts/lib.sh`), so a missing one is a broken setup, not a skip.
    fn init() -> Pg {
        let bin = pg_bin().expect("initdb not found: install PostgreSQL (scripts/lib.sh does)");
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let dir = tempfile::tempdir().unwrap();
        let pg = Pg {
            bin,
            dir,
            port: closed_port(),
            as_root,
        };
        if as_root {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(pg.dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the cluster directory to postgres");
        }
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `tool` of the PostgreSQL folder, run as `postgres` when this is root (initdb refuses root).
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("pg.log");
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let data = self.data();
            let _ = self
                .command("pg_ctl")
                .args(["-D", data.to_str().unwrap(), "-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

/// The folder of `initdb` and `pg_ctl`: on the `PATH`, or Debian's versioned folder.
fn pg_bin() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir(Path::new("/usr/lib/postgresql"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

async fn blocking(pg: &Arc<Pg>, f: fn(&Pg)) {
    let pg = pg.clone();
    tokio::task::spawn_blocking(move || f(&pg)).await.unwrap();
}

#[tokio::test]
async fn a_database_that_goes_down_gives_503s_and_the_server_recovers_without_a_restart() {
    let pg = Pg::init();
    let pg = Arc::new(pg);
    blocking(&pg, Pg::start).await;
    let url = pg.url();
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.database.url = Some(url);
        s.database.acquire_timeout_ms = 1_000;
    })
    .await;
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body.database.backend, "postgres");
    assert_eq!(app.get("/api/sources").await.status(), 200);

    blocking(&pg, Pg::stop).await;
    let started = Instant::now();
    // A route that reads the database per request fails fast with the stable code; the published
    // answers (`/api/sources`, `/api/predictions`, ...) keep serving what was last read.
    let res = app.get("/api/predictions/history").await;
    assert_eq!(res.status(), 503);
    let err: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::DatabaseUnavailable);
    assert_eq!(app.get("/api/sources").await.status(), 200, "served from memory");
    let (status, body) = health(&app).await;
    assert_eq!(status, 503, "{body:?}");
    assert_eq!(body.status, HealthStatus::Degraded);
    assert!(!body.database.reachable);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "requests fail fast while the database is down: {:?}",
        started.elapsed()
    );

    blocking(&pg, Pg::start).await;
    let body = eventually(Duration::from_secs(30), || async {
        let (status, body) = health(&app).await;
        (status == 200).then_some(body)
    })
    .await
    .expect("health recovers once the database is back");
    assert!(body.database.reachable);
    assert_eq!(app.get("/api/predictions/history").await.status(), 200);
    assert_eq!(app.get("/api/sources").await.status(), 200);
}

#[tokio::test]
async fn start_up_waits_for_a_database_that_comes_up_late() {
    let pg = Arc::new(Pg::init());
    // Until the database starts, its port answers and hangs up at once (as a server still starting
    // would), so the test sees each attempt the start-up makes.
    let not_yet = tokio::net::TcpListener::bind(("127.0.0.1", pg.port))
        .await
        .unwrap();
    let url = pg.url();
    let start_up = tokio::spawn(spawn_app_with(Frontend::Fixture, move |s| {
        s.jobs.enabled = false;
        s.database.url = Some(url);
        s.database.connect_retries = 30;
        s.database.connect_backoff_ms = 200;
    }));
    for attempt in 1..=2 {
        let (socket, _) = tokio::time::timeout(Duration::from_secs(30), not_yet.accept())
            .await
            .unwrap_or_else(|_| panic!("start-up attempt {attempt} never came"))
            .unwrap();
        drop(socket);
    }
    assert!(
        !start_up.is_finished(),
        "start-up gave up, or went on, without a database"
    );
    drop(not_yet);
    blocking(&pg, Pg::start).await;
    let app = tokio::time::timeout(Duration::from_secs(60), start_up)
        .await
        .expect("start-up goes on once the database is up")
        .unwrap();
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body:?}");
}

#[tokio::test]
async fn start_up_gives_up_with_a_clear_error_when_the_database_never_comes() {
    let mut settings = crate::helpers::default_settings();
    settings.database.url = Some(format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        closed_port()
    ));
    settings.database.connect_retries = 2;
    settings.database.connect_backoff_ms = 50;
    let err = coincast::db::connect(&settings).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("did not answer after 3 attempt(s)"), "{msg}");
}
