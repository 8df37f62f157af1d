//! The command line: `coincast [--data-dir DIR] [--config FILE] <serve|migrate|openapi>`.
//! Flags override the settings file and the `COINCAST__...` environment (see `config.rs`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// coincast: UP or DOWN for BTC, LTC and XRP over the next 30 min to 12 h, with honest accuracy.
#[derive(Debug, Parser)]
#[command(name = "coincast", version, about)]
pub struct Cli {
    /// Where the embedded SQLite database and other state live (created on first run).
    #[arg(long, global = true, env = "COINCAST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// An optional settings file (TOML); environment variables `COINCAST__SECTION__KEY` override it.
    #[arg(long, global = true, env = "COINCAST_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and serve the web app.
    Serve(ServeArgs),
    /// Apply pending database migrations (the server also does this at start).
    Migrate(MigrateArgs),
    /// Print the OpenAPI document (YAML) generated from the code.
    Openapi,
}

/// `coincast serve`.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long)]
    pub host: Option<String>,
    /// Port to listen on (0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
}

/// `coincast migrate`.
#[derive(Debug, Args, Default)]
pub struct MigrateArgs {
    /// Only report how many migrations are applied.
    #[arg(long)]
    pub status: bool,
}
