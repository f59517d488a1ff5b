//! The WebSocket protocol's JSON frames, and the pre-serialised outbound frame
//! that the registry fans out. An event is serialised once, however many
//! sessions receive it: the text is a reference-counted `ByteString`.
//!
//! The frames live here, not with the session actor, because the Redis store
//! publishes a task update's frame from the same script that commits the
//! task: a store should not need the actor crate for the wire format. The
//! transport's own close-code type stays in the session actor's file.

use crate::model::{Activity, ActivityType, Task};
use crate::webhook::{DeliveryAttempt, DeliveryStatus};
use bytestring::ByteString;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Why the hub closes a session, each with its WebSocket close code: the
/// closed list clients can rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// 1001: the client sent nothing for `client_timeout`.
    GoingAway,
    /// 1008: a frame broke the WebSocket protocol.
    PolicyViolation,
    /// 1009: a frame was larger than `max_frame_size`.
    MessageTooBig,
    /// 1011: the session registry did not answer.
    InternalError,
    /// 1012: the node is shutting down; reconnect (elsewhere).
    ServiceRestart,
    /// 4001: the access token expired and no `refresh` frame extended it.
    TokenExpired,
    /// 4008: the client read too slowly; resume with `last_event_id`.
    SlowConsumer,
    /// 4029: the user has too many sessions.
    TooManySessions,
}

impl Close {
    pub const ALL: &'static [Close] = &[
        Close::GoingAway,
        Close::PolicyViolation,
        Close::MessageTooBig,
        Close::InternalError,
        Close::ServiceRestart,
        Close::TokenExpired,
        Close::SlowConsumer,
        Close::TooManySessions,
    ];

    /// The close code on the wire.
    pub const fn code(self) -> u16 {
        match self {
            Close::GoingAway => 1001,
            Close::PolicyViolation => 1008,
            Close::MessageTooBig => 1009,
            Close::InternalError => 1011,
            Close::ServiceRestart => 1012,
            Close::TokenExpired => 4001,
            Close::SlowConsumer => 4008,
            Close::TooManySessions => 4029,
        }
    }
}

/// Codes of `{"type":"error"}` frames. The session stays open after each:
/// they answer one client frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WsErrorCode {
    /// The frame is not JSON.
    InvalidJson,
    /// JSON, but not one of the client frames (unknown `type` or field).
    InvalidFrame,
    /// `subscribe` named something that is not an activity type.
    UnknownEventType,
    /// `resume` named an id this hub never issued.
    InvalidLastEventId,
    /// History could not be read; refetch over REST.
    ResumeFailed,
    /// `refresh` carried a token of another user.
    WrongUser,
    /// `refresh` carried a token that is not a valid access token.
    InvalidToken,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// A portal session asked for something only a user session has
    /// (resuming events).
    NotAvailable,
}

/// RFC 3339 with milliseconds and `Z`, the API's time format.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A frame ready to write, shared between every session that gets it.
#[derive(Debug)]
pub struct Outbound {
    /// For `event` frames: the activity type (session filters) and id (order).
    pub event: Option<(ActivityType, i64)>,
    /// The serialised JSON text.
    pub text: ByteString,
    /// When the event was committed, for the publish→send latency histogram.
    pub committed_at: Option<Instant>,
    /// A `webhook_delivery` frame: the only kind a webhooks-only (portal)
    /// session receives.
    pub webhook_log: bool,
}

impl Outbound {
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn event(activity: &Activity) -> Self {
        let text = serde_json::to_string(&ServerFrame::Event {
            id: activity.id.as_str(),
            event: activity.kind,
            data: activity,
        })
        .unwrap_or_default();
        Self {
            event: Some((activity.kind, activity.id.seq().unwrap_or(0))),
            text: text.into(),
            committed_at: Some(Instant::now()),
            webhook_log: false,
        }
    }

    pub fn task(task: &Task) -> Self {
        Self::control(&ServerFrame::TaskUpdate { task })
    }

    pub fn control(frame: &ServerFrame<'_>) -> Self {
        Self {
            event: None,
            // Serialising these plain structs cannot fail.
            text: serde_json::to_string(frame).unwrap_or_default().into(),
            committed_at: None,
            webhook_log: matches!(frame, ServerFrame::WebhookDelivery { .. }),
        }
    }

    /// A pre-serialised event frame from another node (the Redis bridge).
    /// Its latency is counted from its arrival on this node: node clocks are
    /// not comparable at this precision.
    pub fn remote_event(kind: ActivityType, seq: i64, text: ByteString) -> Self {
        Self {
            event: Some((kind, seq)),
            text,
            committed_at: Some(Instant::now()),
            webhook_log: false,
        }
    }

    /// A pre-serialised control frame (task update, broadcast) from another node.
    pub fn remote_control(text: ByteString) -> Self {
        Self {
            event: None,
            text,
            committed_at: None,
            webhook_log: false,
        }
    }

    /// A pre-serialised `webhook_delivery` frame from another node.
    pub fn remote_webhook_log(text: ByteString) -> Self {
        Self {
            webhook_log: true,
            ..Self::remote_control(text)
        }
    }
}

/// Server → client frames.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Welcome {
        session_id: &'a str,
        user_id: &'a str,
        node_id: &'a str,
        heartbeat_interval_ms: u64,
        server_time: String,
    },
    Event {
        id: &'a str,
        event: ActivityType,
        data: &'a Activity,
    },
    TaskUpdate {
        task: &'a Task,
    },
    Broadcast {
        data: &'a serde_json::Value,
    },
    Resumed {
        from: &'a str,
        replayed: usize,
        complete: bool,
    },
    Pong {
        timestamp: &'a serde_json::Value,
    },
    Subscribed {
        events: Vec<ActivityType>,
    },
    Error {
        code: WsErrorCode,
        message: &'a str,
    },
    /// One attempt of a webhook delivery was recorded: the owner's open
    /// delivery logs show it without a reload. Not an activity: never
    /// stored in history, never replayed.
    WebhookDelivery {
        webhook_id: &'a str,
        delivery_id: &'a str,
        event_type: &'a str,
        status: DeliveryStatus,
        attempt: &'a DeliveryAttempt,
    },
}

/// Client → server frames.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Ping {
        #[serde(default)]
        timestamp: serde_json::Value,
    },
    Subscribe {
        events: Vec<String>,
    },
    Resume {
        last_event_id: String,
    },
    Refresh {
        token: String,
    },
}

/// Which activity types a session wants, as a bit set (one bit per type), so
/// a filter costs two bytes per session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventFilter(u16);

impl EventFilter {
    pub const ALL: EventFilter = EventFilter(u16::MAX);

    fn bit(t: ActivityType) -> u16 {
        let index = ActivityType::ALL.iter().position(|x| *x == t).unwrap_or(0);
        1 << index
    }

    /// An empty list means everything.
    pub fn from_types(types: &[ActivityType]) -> Self {
        if types.is_empty() {
            return Self::ALL;
        }
        EventFilter(types.iter().fold(0, |acc, t| acc | Self::bit(*t)))
    }

    /// Parses names; returns the first unknown one as the error.
    pub fn parse<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(Self, Vec<ActivityType>), String> {
        let mut types = Vec::new();
        for name in names {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let t = ActivityType::parse(name).ok_or_else(|| name.to_owned())?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok((Self::from_types(&types), types))
    }

    pub fn allows(self, t: ActivityType) -> bool {
        self.0 & Self::bit(t) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let (f, types) = EventFilter::parse(["meeting_booked", "notification"]).unwrap();
        assert_eq!(types.len(), 2);
        assert!(f.allows(ActivityType::MeetingBooked));
        assert!(!f.allows(ActivityType::OutreachSent));
        let (all, _) = EventFilter::parse(Vec::<&str>::new()).unwrap();
        assert!(all.allows(ActivityType::OutreachSent));
        assert_eq!(EventFilter::parse(["nope"]).unwrap_err(), "nope");
    }

    #[test]
    fn client_frames_parse() {
        let f: ClientFrame = serde_json::from_str(r#"{"type":"ping","timestamp":5}"#).unwrap();
        assert!(matches!(f, ClientFrame::Ping { .. }));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"dance"}"#).is_err());
    }
}
