//! Times on the wire are RFC 3339 UTC with milliseconds (`2026-11-26T10:00:00.123Z`).

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Now, at the millisecond precision the API shows, so a stored time and its
/// JSON form are the same instant.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// An instant as microseconds since the Unix epoch: how both stores keep
/// times (SQLite columns, Redis fields and scores).
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`micros`]. Every stored value was written by it, so it is
/// in range; anything else reads as the epoch rather than failing a read.
pub fn from_micros(us: i64) -> DateTime<Utc> {
    chrono::TimeZone::timestamp_micros(&Utc, us)
        .single()
        .unwrap_or_default()
}

pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    DateTime::<Utc>::deserialize(d)
}

/// The same for `Option<DateTime<Utc>>` fields.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<DateTime<Utc>>::deserialize(d)
    }
}
