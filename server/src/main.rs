use std::process::ExitCode;

use clap::Parser;
use coincast::cli::{Cli, Command};
use coincast::{
    backfill::Backfill, collectors, config::Settings, db, import, openapi, startup::Application, telemetry,
    training,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    collectors::install_tls_provider();
    let settings = match Settings::load(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("coincast: invalid settings: {e:#}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    match run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "coincast failed");
            eprintln!("coincast: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate(args) => {
            let conn = db::connect(&settings).await?;
            if args.status {
                let applied = db::applied_migrations(&conn).await?;
                println!("{applied} migration(s) applied");
            } else {
                let applied = db::migrate(&conn).await?;
                println!("database up to date: {applied} migration(s) applied");
            }
        }
        Command::Openapi => print!("{}", openapi::yaml()?),
        Command::Train(args) => {
            let jobs = if args.from_db {
                let conn = db::connect(&settings).await?;
                db::migrate(&conn).await?;
                training::jobs_from_db(&conn, &args).await?
            } else {
                training::jobs_from_files(&args)?
            };
            tokio::task::spawn_blocking(move || training::run(&args, jobs)).await??
        }
        Command::Import(args) => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            if let Some(series) = &args.series {
                for path in &args.paths {
                    let report = import::import_series(&conn, series, path).await?;
                    println!(
                        "{}: {} points of {series} in {:.2} s",
                        path.display(),
                        report.rows,
                        report.seconds
                    );
                }
                return Ok(());
            }
            for path in &args.paths {
                let bar = indicatif::ProgressBar::new_spinner().with_message(path.display().to_string());
                let mut progress = |n: usize| bar.inc(n as u64);
                let report = import::import_file(&conn, path, &mut progress).await?;
                bar.finish_and_clear();
                println!(
                    "{}: {} {} s bars of {} in {:.2} s ({:.0} rows/s)",
                    path.display(),
                    report.rows,
                    report.interval_s,
                    report.coin,
                    report.seconds,
                    report.rows_per_second()
                );
            }
        }
        Command::Backfill(args) => backfill(args, settings).await?,
        Command::Evaluate(args) => tokio::task::spawn_blocking(move || training::evaluate(&args)).await??,
    }
    Ok(())
}

async fn backfill(args: coincast::cli::BackfillArgs, settings: Settings) -> anyhow::Result<()> {
    let conn = db::connect(&settings).await?;
    db::migrate(&conn).await?;
    let from = args
        .from
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    let to = match args.to {
        Some(day) => day.and_hms_opt(23, 59, 0).map_or(0, |t| t.and_utc().timestamp()),
        None => coincast::backfill::last_completed_minute(),
    };
    let timeout = std::time::Duration::from_millis(settings.upstream.timeout_ms);
    let client = collectors::http_client(timeout)?;
    let job = Backfill {
        db: &conn,
        base_url: &settings.upstream.bitstamp,
        client: &client,
        timeout,
        pause: std::time::Duration::from_millis(args.pause_ms),
        retries: 4,
    };
    let coins = if args.coins.is_empty() {
        shared::Coin::ALL.to_vec()
    } else {
        args.coins
    };
    for coin in coins {
        let bar = indicatif::ProgressBar::new(u64::try_from((to - from) / 60 + 1).unwrap_or(0))
            .with_message(format!("{coin} minutes"));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} ({eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut progress = |cursor: i64| bar.set_position(u64::try_from((cursor - from) / 60).unwrap_or(0));
        let report = job.run(coin, from, to, &mut progress).await?;
        bar.finish_and_clear();
        println!(
            "{coin}: {} candles in {} pages, {:.1} s{}",
            report.rows,
            report.pages,
            report.seconds,
            if report.resumed { " (resumed)" } else { "" }
        );
    }
    Ok(())
}
