//! The `aiclone-hub` binary: `aiclone-hub [serve] [--config FILE]` runs the
//! hub; `aiclone-hub api-key create` prints a new service key and its config
//! entry.

use std::path::PathBuf;
use std::process::ExitCode;

use aiclone_hub::{auth, config, startup::Application, telemetry};
use clap::{Parser, Subcommand};

// mimalloc returns freed memory to the OS more eagerly than glibc's malloc
// and keeps per-thread caches small, which matters with many idle sockets.
// It is built with `no_thp`: it does not ask for transparent huge pages,
// which on a host with THP in `madvise` mode made whole 2 MiB pages resident
// where a few KiB were used (20.1 KiB per idle session, 13.2 without) and
// had connects zeroing huge pages.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The AI Clone Hub: activities, tasks, live WebSocket feed, webhooks and
/// analytics, with its dashboard at `/`.
#[derive(Parser)]
#[command(name = "aiclone-hub", version)]
struct Cli {
    /// A TOML file of settings on top of the defaults (environment
    /// variables `HUB__SECTION__KEY` override both).
    #[arg(short, long, global = true, env = "HUB_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub (the default).
    Serve,
    /// Service API keys for backend workers.
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
}

#[derive(Subcommand)]
enum ApiKeyAction {
    /// Print a new service API key and its config entry (the hub keeps only
    /// the entry, a hash).
    Create,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config),
        Command::ApiKey {
            action: ApiKeyAction::Create,
        } => {
            let (key, entry) = auth::generate_api_key();
            println!("key:    {key}");
            println!("config: api_keys = [\"{entry}\"]   (or HUB__AUTH__API_KEYS={entry})");
            println!("Keep the key secret; the hub stores only its hash.");
            ExitCode::SUCCESS
        }
    }
}

fn serve(config_file: Option<PathBuf>) -> ExitCode {
    let settings = match config::load(config_file.as_deref(), std::env::vars()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("aiclone-hub: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        app.run_until_stopped().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(cause = %format!("{e:#}"), "hub failed");
            eprintln!("aiclone-hub: {e:#}");
            ExitCode::FAILURE
        }
    }
}
