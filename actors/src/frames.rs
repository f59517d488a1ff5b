//! The WebSocket protocol's JSON frames, and the pre-serialised outbound frame
//! that the registry fans out. An event is serialised once, however many
//! sessions receive it: the text is a reference-counted `ByteString`.

use actix_web_actors::ws::CloseCode;
use bytestring::ByteString;
use chrono::{DateTime, SecondsFormat, Utc};
use hub_core::model::{Activity, ActivityType, Task};
use hub_core::webhook::{DeliveryAttempt, DeliveryStatus};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Application close codes (SPEC §7).
pub mod close {
    /// The access token expired and no `refresh` frame extended it.
    pub const TOKEN_EXPIRED: u16 = 4001;
    /// The client read too slowly; resume with `last_event_id`.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// Too many sessions for this user.
    pub const TOO_MANY_SESSIONS: u16 = 4029;
    /// The node is shutting down: reconnect (elsewhere).
    pub const SERVICE_RESTART: u16 = 1012;
}

pub fn close_code(code: u16) -> CloseCode {
    CloseCode::from(code)
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
        code: &'a str,
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
