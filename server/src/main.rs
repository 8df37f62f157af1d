use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use coincast::cli::{Cli, Command};
use coincast::config::Settings;
use coincast::{collect, commands, db, http, jobs, telemetry};

/// How long, once `main` is done, the runtime waits for blocking tasks (an inference, a training
/// step) before the process exits anyway.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    coincast::memory::limit_arenas(coincast::memory::ARENAS);
    coincast::threads::one_rayon_thread();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("coincast: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async_main());
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    code
}

async fn async_main() -> ExitCode {
    let cli = Cli::parse();
    collect::install_tls_provider();
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
            let host = settings.server.host.clone();
            let app = http::Application::build(settings).await?;
            // Scripts and tests start with `--port 0` and read the port from this line (its own
            // target, so a quiet log can keep it: `warn,coincast::listening=info`).
            let port = app.port();
            tracing::info!(target: "coincast::listening", port, "listening on http://{host}:{port}");
            app.run_until_stopped().await?;
        }
        Command::Worker(_) => coincast::worker::run(settings).await?,
        Command::Migrate(args) => {
            let conn = db::connect(&settings).await?;
            if args.status {
                println!("{} migration(s) applied", db::applied_migrations(&conn).await?);
            } else {
                let applied = db::migrate(&conn).await?;
                jobs::setup(&conn).await?;
                println!("database up to date: {applied} migration(s) applied, job tables ready");
            }
        }
        Command::Openapi => print!("{}", http::openapi::yaml()?),
        Command::Train(args) => commands::train::main(args, &settings).await?,
        Command::Retrain(args) => commands::retrain::run(&settings, &args).await?,
        Command::Evaluate(args) => {
            tokio::task::spawn_blocking(move || commands::evaluate::run(&args)).await??
        }
        Command::Import(args) => commands::import::run(&db::open(&settings).await?, &args).await?,
        Command::Backfill(args) => {
            commands::backfill::run(&db::open(&settings).await?, args, &settings).await?
        }
    }
    Ok(())
}
