//! Identifier newtypes, so a user id can never be passed where a task id is
//! expected. All of them are opaque strings on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A fresh random identifier. UUIDv7 keeps ids roughly time-ordered,
            /// which keeps B-tree inserts local.
            pub fn generate() -> Self {
                Self(format!(concat!($prefix, "{}"), uuid::Uuid::now_v7().simple()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_type!(
    /// A registered user.
    UserId,
    "usr_"
);
id_type!(
    /// One WebSocket connection.
    SessionId,
    "ses_"
);
id_type!(
    /// A long-running task.
    TaskId,
    "tsk_"
);
id_type!(
    /// A webhook endpoint.
    WebhookId,
    "wh_"
);
id_type!(
    /// A personal access token (its id, never the secret).
    TokenId,
    "pat_"
);
id_type!(
    /// One webhook delivery: the Standard Webhooks message id (`webhook-id`
    /// header), the same on every attempt so receivers can deduplicate.
    DeliveryId,
    "msg_"
);

/// An activity id. Unlike the others it is assigned by the store, not generated:
/// ids of one user's activities are strictly increasing (a WebSocket client
/// resumes from the last one it saw). The embedded store uses a zero-padded
/// sequence number so the string order equals the numeric order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActivityId(pub String);

impl ActivityId {
    /// Width of the zero-padded decimal form: enough for any `i64`.
    pub const WIDTH: usize = 19;

    pub fn from_seq(seq: i64) -> Self {
        Self(format!("{seq:0width$}", width = Self::WIDTH))
    }

    /// The sequence number behind an id, if it is one this hub issued.
    pub fn seq(&self) -> Option<i64> {
        if self.0.is_empty() || !self.0.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.0.parse().ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActivityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_ids_sort_as_strings_in_numeric_order() {
        let a = ActivityId::from_seq(9);
        let b = ActivityId::from_seq(10);
        assert!(a < b);
        assert_eq!(b.seq(), Some(10));
        assert_eq!(ActivityId("x1".into()).seq(), None);
        assert_eq!(ActivityId("-1".into()).seq(), None);
    }

    #[test]
    fn generated_ids_carry_their_prefix() {
        assert!(UserId::generate().as_str().starts_with("usr_"));
        assert_ne!(TaskId::generate(), TaskId::generate());
    }
}
