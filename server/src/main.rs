use std::process::ExitCode;

use clap::Parser;
use coincast::cli::{Cli, Command};
use coincast::{config::Settings, db, import, openapi, startup::Application, telemetry, training};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Train(args) => tokio::task::spawn_blocking(move || training::run(&args)).await??,
        Command::Import(args) => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
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
        Command::Evaluate(args) => tokio::task::spawn_blocking(move || training::evaluate(&args)).await??,
    }
    Ok(())
}
