//! Logging: `tracing` with human or JSON output. `RUST_LOG` overrides the
//! configured level. Secrets never reach a log line: settings redact the
//! signing key in `Debug`, tokens travel only in headers and the WebSocket
//! query string (which the request span leaves out), and passwords are never
//! put in a field.

use hub_core::settings::{LogFormat, LogSettings};
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber. A second call (tests) is a no-op.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(settings.level.as_str()));
    let builder = fmt().with_env_filter(filter).with_target(false);
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Human => builder.try_init(),
    };
}
