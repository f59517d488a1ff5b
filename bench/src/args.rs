//! A small command-line parser: `hub-bench <scenario> [--key value | --key=value | --flag]...`.
//!
//! Every option a scenario reads is marked as used; [`Args::finish`] then
//! rejects the rest, so a mistyped knob (`--sesions`) stops the run instead of
//! silently measuring the default.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};

/// Parsed options of one invocation.
#[derive(Debug, Default)]
pub struct Args {
    /// The subcommand (scenario name).
    pub scenario: String,
    /// Every value given for each option, in order (options may repeat).
    values: BTreeMap<String, Vec<String>>,
    /// Options some scenario has read; the rest are typos.
    used: RefCell<BTreeSet<String>>,
}

impl Args {
    /// Parses everything after the program name.
    pub fn parse(raw: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        let mut iter = raw.into_iter().peekable();
        let mut args = Args {
            scenario: iter.next().unwrap_or_default(),
            ..Args::default()
        };
        while let Some(word) = iter.next() {
            let Some(option) = word.strip_prefix("--") else {
                bail!("unexpected argument {word:?} (options look like --key value)");
            };
            let (key, value) = match option.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => {
                    // A bare `--flag` (followed by nothing or another option) means true.
                    let value = match iter.peek() {
                        Some(next) if !next.starts_with("--") => iter.next().unwrap_or_default(),
                        _ => "true".to_owned(),
                    };
                    (option.to_owned(), value)
                }
            };
            args.values.entry(key).or_default().push(value);
        }
        Ok(args)
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.used.borrow_mut().insert(key.to_owned());
        self.values
            .get(key)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// The value of `--key`, or `default`.
    pub fn get<T: FromStr>(&self, key: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(key) {
            None => Ok(default),
            Some(v) => v
                .replace('_', "")
                .parse()
                .map_err(|e| anyhow!("--{key} {v:?}: {e}")),
        }
    }

    /// The value of `--key`, if given.
    pub fn opt<T: FromStr>(&self, key: &str) -> anyhow::Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.raw(key)
            .map(|v| v.parse().map_err(|e| anyhow!("--{key} {v:?}: {e}")))
            .transpose()
    }

    /// A string option, if given.
    pub fn string(&self, key: &str) -> Option<String> {
        self.raw(key).map(str::to_owned)
    }

    /// A boolean flag: absent is `default`; `--flag`, `--flag true|false`.
    pub fn flag(&self, key: &str, default: bool) -> anyhow::Result<bool> {
        self.get(key, default)
    }

    /// Every value of a repeatable option, in the order given.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.used.borrow_mut().insert(key.to_owned());
        self.values.get(key).cloned().unwrap_or_default()
    }

    /// A duration: `250ms`, `5s`, `10m`, `1h`, or plain seconds.
    pub fn duration(&self, key: &str, default: Duration) -> anyhow::Result<Duration> {
        match self.raw(key) {
            None => Ok(default),
            Some(v) => parse_duration(v).with_context(|| format!("--{key} {v:?}")),
        }
    }

    /// A duration option, if given.
    pub fn optional_duration(&self, key: &str) -> anyhow::Result<Option<Duration>> {
        self.raw(key)
            .map(|v| parse_duration(v).with_context(|| format!("--{key} {v:?}")))
            .transpose()
    }

    /// Fails if an option was given that no part of the scenario read.
    pub fn finish(&self) -> anyhow::Result<()> {
        let used = self.used.borrow();
        let unknown: Vec<_> = self
            .values
            .keys()
            .filter(|k| !used.contains(*k))
            .map(|k| format!("--{k}"))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            bail!(
                "unknown option(s) for `{}`: {} (see hub-bench --help)",
                self.scenario,
                unknown.join(", ")
            )
        }
    }
}

/// Parses `250ms`, `5s`, `10m`, `1h` or a plain number of seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| anyhow!("not a duration (try 5s, 250ms, 10m)"))?;
    let seconds = match unit {
        "" | "s" => n,
        "ms" => n / 1_000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3_600.0,
        _ => bail!("unknown duration unit {unit:?} (ms, s, m, h)"),
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Args {
        Args::parse(words.iter().map(|w| w.to_string())).unwrap()
    }

    #[test]
    fn options_flags_and_repeats() {
        let a = parse(&[
            "fanout",
            "--users",
            "2_000",
            "--rate=500",
            "--keep",
            "--hub-env",
            "A=1",
            "--hub-env",
            "B=2",
        ]);
        assert_eq!(a.scenario, "fanout");
        assert_eq!(a.get("users", 1usize).unwrap(), 2000);
        assert_eq!(a.get("rate", 1.0f64).unwrap(), 500.0);
        assert!(a.flag("keep", false).unwrap());
        assert_eq!(a.all("hub-env"), vec!["A=1", "B=2"]);
        assert_eq!(a.get("sessions", 7usize).unwrap(), 7);
        a.finish().unwrap();
    }

    #[test]
    fn unknown_options_are_refused() {
        let a = parse(&["idle", "--sesions", "5"]);
        let _ = a.get("sessions", 1usize);
        assert!(a.finish().unwrap_err().to_string().contains("--sesions"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("5 parsecs").is_err());
    }
}
