//! The `aiclone-hub` binary: `aiclone-hub [serve] [--config FILE]` runs the
//! hub; `aiclone-hub api-key create` prints a new service key and its config
//! entry.

use std::path::PathBuf;
use std::process::ExitCode;

use aiclone_hub::{auth, config, startup::Application, telemetry};

// mimalloc returns freed memory to the OS more eagerly than glibc's malloc
// and keeps per-thread caches small, which matters with many idle sockets.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage:
  aiclone-hub [serve] [--config FILE]   run the hub (HUB_CONFIG also names a file)
  aiclone-hub api-key create            print a new service API key and its config entry";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config_file = std::env::var_os("HUB_CONFIG").map(PathBuf::from);
    let mut words = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--config" | "-c" => match iter.next() {
                Some(path) => config_file = Some(PathBuf::from(path)),
                None => {
                    eprintln!("--config needs a file\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => words.push(other),
        }
    }
    match words.as_slice() {
        [] | ["serve"] => serve(config_file),
        ["api-key", "create"] => {
            let (key, entry) = auth::generate_api_key();
            println!("key:    {key}");
            println!("config: api_keys = [\"{entry}\"]   (or HUB__AUTH__API_KEYS={entry})");
            println!("Keep the key secret; the hub stores only its hash.");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
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
