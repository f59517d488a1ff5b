//! Loading the settings: the embedded `config/default.toml`, then an optional
//! file, then `HUB__SECTION__KEY` environment variables, then validation.
//! Every error names the key at fault.

use std::path::Path;

use hub_core::Settings;
use toml::{Table, Value};

/// The commented default configuration, compiled in.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of environment overrides; sections and keys are separated by `__`.
const ENV_PREFIX: &str = "HUB__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("config file {path} is not valid TOML: {cause}")]
    Parse {
        path: String,
        cause: toml::de::Error,
    },
    #[error("invalid configuration value for `{key}` (from {source_name}): {message}")]
    Env {
        key: String,
        source_name: String,
        message: String,
    },
    #[error("invalid configuration at `{key}`: {message}")]
    Shape { key: String, message: String },
    #[error(transparent)]
    Invalid(#[from] hub_core::settings::InvalidSetting),
}

/// Builds the settings from the three layers.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let mut table: Table = DEFAULT_TOML.parse().map_err(|cause| ConfigError::Parse {
        path: "<embedded default>".into(),
        cause,
    })?;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.display().to_string(),
            cause,
        })?;
        let overlay: Table = text.parse().map_err(|cause| ConfigError::Parse {
            path: path.display().to_string(),
            cause,
        })?;
        merge(&mut table, overlay);
    }
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    for (name, raw) in vars {
        apply_env(&mut table, &name, &raw)?;
    }
    let settings: Settings =
        serde_path_to_error::deserialize(Value::Table(table)).map_err(|err| {
            let key = err.path().to_string();
            ConfigError::Shape {
                key,
                message: err.into_inner().to_string(),
            }
        })?;
    settings.validate()?;
    Ok(settings)
}

/// Overlays `overlay` onto `base`, table by table.
fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(existing)), Value::Table(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets one `HUB__A__B=value` variable, typed after the value it replaces.
fn apply_env(table: &mut Table, name: &str, raw: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = name[ENV_PREFIX.len()..]
        .split("__")
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let key = path.join(".");
    let err = |message: String| ConfigError::Env {
        key: key.clone(),
        source_name: name.to_owned(),
        message,
    };
    if path.iter().any(|p| p.is_empty()) {
        return Err(err("empty key segment".into()));
    }
    let (last, parents) = path.split_last().ok_or_else(|| err("empty key".into()))?;
    let mut node = table;
    for part in parents {
        let entry = node
            .entry(part.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        node = match entry {
            Value::Table(t) => t,
            _ => return Err(err(format!("`{part}` is not a section"))),
        };
    }
    let value = typed_like(node.get(last), raw).map_err(err)?;
    node.insert(last.clone(), value);
    Ok(())
}

fn typed_like(existing: Option<&Value>, raw: &str) -> Result<Value, String> {
    let raw = raw.trim();
    Ok(match existing {
        Some(Value::Integer(_)) => Value::Integer(
            raw.parse()
                .map_err(|_| format!("{raw:?} is not a whole number"))?,
        ),
        Some(Value::Float(_)) => Value::Float(
            raw.parse()
                .map_err(|_| format!("{raw:?} is not a number"))?,
        ),
        Some(Value::Boolean(_)) => Value::Boolean(match raw {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => return Err(format!("{raw:?} is not true or false")),
        }),
        Some(Value::Array(items)) => {
            let element = items.first();
            let parts = raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|part| typed_like(element, part))
                .collect::<Result<Vec<_>, _>>()?;
            Value::Array(parts)
        }
        Some(Value::Table(_)) => return Err("is a section, not a value".into()),
        _ => Value::String(raw.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_validate() {
        let s = load(None, env(&[])).unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.server.host, "127.0.0.1");
        assert_eq!(s.websocket.heartbeat_interval.0.as_secs(), 15);
        assert_eq!(s.webhooks.retry_schedule.len(), 8);
        assert_eq!(s.rate_limit.policies["api"].limit, 60);
        assert!(!s.is_cluster());
    }

    #[test]
    fn env_overrides_are_typed() {
        let s = load(
            None,
            env(&[
                ("HUB__SERVER__PORT", "9000"),
                (
                    "HUB__SERVER__ALLOWED_ORIGINS",
                    "https://a.example, https://b.example",
                ),
                ("HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
                ("HUB__RATE_LIMIT__POLICIES__API__LIMIT", "120"),
                ("HUB__WEBSOCKET__HEARTBEAT_INTERVAL", "250ms"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.server.allowed_origins.len(), 2);
        assert!(s.webhooks.allow_private_targets);
        assert_eq!(s.rate_limit.policies["api"].limit, 120);
        assert_eq!(s.websocket.heartbeat_interval.0.as_millis(), 250);
    }

    #[test]
    fn errors_name_the_key() {
        let e = load(None, env(&[("HUB__SERVER__PORT", "eighty")])).unwrap_err();
        assert!(e.to_string().contains("server.port"), "{e}");
        let e = load(None, env(&[("HUB__SERVER__PROT", "80")])).unwrap_err();
        assert!(e.to_string().contains("prot"), "{e}");
        let e = load(None, env(&[("HUB__WEBSOCKET__CLIENT_TIMEOUT", "soon")])).unwrap_err();
        assert!(e.to_string().contains("websocket.client_timeout"), "{e}");
        let e = load(None, env(&[("HUB__AUTH__JWT_SECRET", "short")])).unwrap_err();
        assert!(e.to_string().contains("auth.jwt_secret"), "{e}");
        let e = load(None, env(&[("HUB__REDIS__URL", "redis://127.0.0.1:6379")])).unwrap_err();
        assert!(e.to_string().contains("auth.jwt_secret"), "{e}");
    }

    #[test]
    fn file_overlays_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.toml");
        std::fs::write(
            &path,
            "[server]\nport = 7000\n[websocket]\nhistory_size = 10\n",
        )
        .unwrap();
        let s = load(Some(&path), env(&[])).unwrap();
        assert_eq!(s.server.port, 7000);
        assert_eq!(s.websocket.history_size, 10);
        assert_eq!(s.server.host, "127.0.0.1");
    }
}
