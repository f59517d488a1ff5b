//! Webhooks as stored and shown: endpoints, their signing secrets, and the
//! deliveries (one per event and endpoint) with the log of their attempts.
//!
//! A delivery's id is the Standard Webhooks message id: the `webhook-id`
//! header carries it on every attempt, so receivers can deduplicate honest
//! at-least-once retries.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{DeliveryId, UserId, WebhookId};
use crate::model::ActivityType;

/// Prefix of every webhook signing secret (Standard Webhooks convention).
pub const SECRET_PREFIX: &str = "whsec_";
/// Event type of the probe sent by `POST /api/webhooks/{id}/test`.
pub const TEST_EVENT: &str = "webhook.test";

/// What an endpoint can subscribe to: every activity type, and the two
/// presence events (a user's first session opened anywhere, the last one
/// gone for a while). Presence events are not activities: they are never
/// stored in history or counted, only delivered to endpoints that list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "prospect_added")]
    ProspectAdded,
    #[serde(rename = "research_completed")]
    ResearchCompleted,
    #[serde(rename = "outreach_sent")]
    OutreachSent,
    #[serde(rename = "meeting_booked")]
    MeetingBooked,
    #[serde(rename = "content_published")]
    ContentPublished,
    #[serde(rename = "task_completed")]
    TaskCompleted,
    #[serde(rename = "automation_triggered")]
    AutomationTriggered,
    #[serde(rename = "notification")]
    Notification,
    #[serde(rename = "presence.online")]
    PresenceOnline,
    #[serde(rename = "presence.offline")]
    PresenceOffline,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::ProspectAdded,
        EventType::ResearchCompleted,
        EventType::OutreachSent,
        EventType::MeetingBooked,
        EventType::ContentPublished,
        EventType::TaskCompleted,
        EventType::AutomationTriggered,
        EventType::Notification,
        EventType::PresenceOnline,
        EventType::PresenceOffline,
    ];

    /// The activity type this event is, or `None` for presence.
    pub fn activity(self) -> Option<ActivityType> {
        Some(match self {
            EventType::ProspectAdded => ActivityType::ProspectAdded,
            EventType::ResearchCompleted => ActivityType::ResearchCompleted,
            EventType::OutreachSent => ActivityType::OutreachSent,
            EventType::MeetingBooked => ActivityType::MeetingBooked,
            EventType::ContentPublished => ActivityType::ContentPublished,
            EventType::TaskCompleted => ActivityType::TaskCompleted,
            EventType::AutomationTriggered => ActivityType::AutomationTriggered,
            EventType::Notification => ActivityType::Notification,
            EventType::PresenceOnline | EventType::PresenceOffline => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PresenceOnline => "presence.online",
            EventType::PresenceOffline => "presence.offline",
            other => other.activity().map_or("", ActivityType::as_str),
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Presence events go only to endpoints that list them; an empty list
    /// means every activity type.
    pub fn is_presence(self) -> bool {
        self.activity().is_none()
    }
}

impl From<ActivityType> for EventType {
    fn from(kind: ActivityType) -> Self {
        match kind {
            ActivityType::ProspectAdded => EventType::ProspectAdded,
            ActivityType::ResearchCompleted => EventType::ResearchCompleted,
            ActivityType::OutreachSent => EventType::OutreachSent,
            ActivityType::MeetingBooked => EventType::MeetingBooked,
            ActivityType::ContentPublished => EventType::ContentPublished,
            ActivityType::TaskCompleted => EventType::TaskCompleted,
            ActivityType::AutomationTriggered => EventType::AutomationTriggered,
            ActivityType::Notification => EventType::Notification,
        }
    }
}

/// Does a subscription list `events` take `event`? Empty means every
/// activity type (and no presence event).
pub fn subscribes(events: &[EventType], event: EventType) -> bool {
    if events.is_empty() {
        !event.is_presence()
    } else {
        events.contains(&event)
    }
}

/// Whether an endpoint receives deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Active,
    Disabled,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(WebhookStatus::Active),
            "disabled" => Some(WebhookStatus::Disabled),
            _ => None,
        }
    }
}

/// The body an endpoint receives: the signed Standard Webhooks envelope, or
/// a Slack or Discord incoming-webhook message (unsigned: their URL is the
/// secret), built from the same envelope at each attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    #[default]
    Standard,
    Slack,
    Discord,
}

impl WebhookFormat {
    pub const ALL: [WebhookFormat; 3] = [
        WebhookFormat::Standard,
        WebhookFormat::Slack,
        WebhookFormat::Discord,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Standard => "standard",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Discord => "discord",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// Only the standard envelope carries signatures.
    pub fn signed(self) -> bool {
        self == WebhookFormat::Standard
    }

    /// The request body for a delivery whose stored payload is `envelope`.
    pub fn render(self, envelope: &str) -> String {
        match self {
            WebhookFormat::Standard => envelope.to_owned(),
            WebhookFormat::Slack => crate::formats::slack(&crate::formats::Message::of(envelope)),
            WebhookFormat::Discord => {
                crate::formats::discord(&crate::formats::Message::of(envelope))
            }
        }
    }
}

/// A webhook endpoint as every API response shows it (never with its secret).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    #[schema(value_type = String, example = "wh_0193c1d2e3f4")]
    pub id: WebhookId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    /// Event types delivered; empty means every activity type (presence
    /// events only when listed).
    pub events: Vec<EventType>,
    pub description: Option<String>,
    /// The body it receives; `standard` unless set.
    #[serde(default)]
    pub format: WebhookFormat,
    pub status: WebhookStatus,
    /// Why the hub disabled the endpoint (410, too many failures).
    pub disabled_reason: Option<String>,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time")]
    pub updated_at: DateTime<Utc>,
    /// When the last attempt finished.
    #[serde(with = "crate::time::option")]
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// HTTP status of the last attempt, if it got one.
    pub last_status_code: Option<u16>,
    /// Failed attempts since the last success; the endpoint is disabled when
    /// this reaches `webhooks.max_consecutive_failures`.
    pub consecutive_failures: u32,
    /// Bumped by every change of configuration, secret or status, so a
    /// delivery actor never applies an older configuration over a newer one.
    #[serde(skip)]
    pub version: i64,
}

impl Webhook {
    /// Does this endpoint subscribe to `event`?
    pub fn wants(&self, event: impl Into<EventType>) -> bool {
        subscribes(&self.events, event.into())
    }
}

/// The secrets that sign an endpoint's deliveries: the current one and, for a
/// while after a rotation, the previous one (receivers switch over at leisure).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecrets {
    /// `whsec_` + base64 of the key bytes.
    pub current: String,
    /// The secret before the last rotation, while it still signs.
    pub previous: Option<String>,
    /// When `previous` stops signing.
    pub previous_expires_at: Option<DateTime<Utc>>,
}

impl SigningSecrets {
    /// The secrets that sign at `now`, newest first.
    pub fn signing_at(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.current.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous, self.previous_expires_at) {
            if now < until {
                secrets.push(previous);
            }
        }
        secrets
    }
}

// Hand-written so a secret can never reach a log line through `{:?}`.
impl fmt::Debug for SigningSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningSecrets")
            .field("current", &"<redacted>")
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .field("previous_expires_at", &self.previous_expires_at)
            .finish()
    }
}

/// An endpoint with what signing needs: what the delivery actors load.
#[derive(Clone, Debug)]
pub struct WebhookRecord {
    /// The endpoint as shown.
    pub webhook: Webhook,
    /// What signs its deliveries.
    pub secrets: SigningSecrets,
}

/// The fields a user edits (`PUT` replaces them, `PATCH` merges first).
#[derive(Clone, Debug)]
pub struct WebhookChange {
    /// Already checked against the SSRF guard.
    pub url: String,
    /// Empty means every activity type.
    pub events: Vec<EventType>,
    pub description: Option<String>,
    pub format: WebhookFormat,
    /// When the change was made.
    pub updated_at: DateTime<Utc>,
}

/// Where a delivery is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// A 2xx answer arrived within the timeout.
    Succeeded,
    /// Retries exhausted, or the endpoint answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one endpoint.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The Standard Webhooks message id, stable across retries.
    pub id: DeliveryId,
    /// The endpoint it goes to.
    pub webhook_id: WebhookId,
    /// The endpoint's owner (whose activity it carries).
    pub user_id: UserId,
    /// Activity type, or [`TEST_EVENT`].
    pub event_type: String,
    /// The exact request body, fixed at creation so every retry sends (and
    /// signs) the same bytes.
    pub payload: String,
    pub status: DeliveryStatus,
    /// Attempts made so far; the next one is number `attempts + 1`.
    pub attempts: u32,
    /// `attempts` when the current retry round began: a manual retry starts
    /// the schedule again without renumbering earlier attempts.
    pub retry_base: u32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When its activity was stored (or the test was asked for).
    pub created_at: DateTime<Utc>,
    /// Last change of status or schedule.
    pub updated_at: DateTime<Utc>,
}

impl Delivery {
    /// A new delivery, due at once: what every store creates for an activity
    /// (and the test route for a probe).
    pub fn pending(
        id: DeliveryId,
        webhook_id: WebhookId,
        user_id: UserId,
        event_type: &str,
        payload: String,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            webhook_id,
            user_id,
            event_type: event_type.to_owned(),
            payload,
            status: DeliveryStatus::Pending,
            attempts: 0,
            retry_base: 0,
            next_attempt_at: Some(at),
            created_at: at,
            updated_at: at,
        }
    }
}

/// One attempt of a delivery, as the deliveries log shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    /// 1 for the first attempt of the delivery.
    pub attempt: u32,
    #[serde(with = "crate::time")]
    pub attempted_at: DateTime<Utc>,
    /// From sending the request to the end of reading the response head.
    pub duration_ms: u64,
    /// HTTP status, when the endpoint answered.
    pub status_code: Option<u16>,
    /// Why the attempt failed without a status (timeout, refused, blocked).
    pub error: Option<String>,
    /// The first KiB of the response body.
    pub response_body: Option<String>,
    /// When the next attempt is due, if this one scheduled one.
    #[serde(with = "crate::time::option")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A delivery and every attempt made for it: one item of the deliveries log.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryLog {
    /// The delivery id, which is also the `webhook-id` header.
    #[schema(value_type = String, example = "msg_0193c1d2e3f4")]
    pub id: DeliveryId,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Number of attempts made.
    pub attempt_count: u32,
    #[serde(with = "crate::time::option")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time")]
    pub updated_at: DateTime<Utc>,
    /// The request body, in the endpoint's format (the stores return the
    /// stored envelope; the API renders it with the endpoint's format, the
    /// one its next attempt uses).
    pub body: String,
    /// Oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// What an attempt changes on its endpoint.
#[derive(Clone, Debug, Default)]
pub struct EndpointUpdate {
    /// The new failure count; `None` leaves it (a probe that failed).
    pub consecutive_failures: Option<u32>,
    /// Disables the endpoint with this reason.
    pub disable_reason: Option<String>,
}

/// The outcome of one attempt, stored atomically with its effects.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    /// The endpoint whose counters change.
    pub webhook_id: WebhookId,
    /// The delivery the attempt belongs to.
    pub delivery_id: DeliveryId,
    /// What happened, as the log shows it.
    pub attempt: DeliveryAttempt,
    /// The delivery's status after this attempt.
    pub status: DeliveryStatus,
    pub endpoint: EndpointUpdate,
}

/// Filters of the deliveries log, newest first.
#[derive(Clone, Debug, Default)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// The body every delivery sends: `{"type", "timestamp", "data"}`.
pub fn envelope<T: Serialize>(event_type: &str, timestamp: DateTime<Utc>, data: &T) -> String {
    // Serialising plain data to a String cannot fail.
    envelope_raw(
        event_type,
        timestamp,
        &serde_json::to_string(data).unwrap_or_default(),
    )
}

/// The same body around `data` already serialised. The Redis append script
/// builds these exact bytes itself (`append_fn.lua`), so both stores, and a
/// delivery read back after a restart, sign the same body.
pub fn envelope_raw(event_type: &str, timestamp: DateTime<Utc>, data_json: &str) -> String {
    format!(
        r#"{{"type":"{event_type}","timestamp":"{}","data":{data_json}}}"#,
        crate::time::format(&timestamp)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn envelope_has_the_documented_shape() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let body = envelope("prospect_added", t, &serde_json::json!({"id": "1"}));
        assert_eq!(
            body,
            r#"{"type":"prospect_added","timestamp":"2026-11-26T10:00:00.000Z","data":{"id":"1"}}"#
        );
    }

    #[test]
    fn previous_secret_signs_until_it_expires() {
        let now = Utc::now();
        let secrets = SigningSecrets {
            current: "whsec_new".into(),
            previous: Some("whsec_old".into()),
            previous_expires_at: Some(now + chrono::Duration::hours(1)),
        };
        assert_eq!(secrets.signing_at(now), vec!["whsec_new", "whsec_old"]);
        assert_eq!(
            secrets.signing_at(now + chrono::Duration::hours(2)),
            vec!["whsec_new"]
        );
        assert!(!format!("{secrets:?}").contains("whsec"));
    }

    #[test]
    fn empty_events_means_all() {
        let now = Utc::now();
        let mut w = Webhook {
            id: WebhookId::generate(),
            user_id: UserId::generate(),
            url: "https://example.com".into(),
            events: vec![],
            description: None,
            format: WebhookFormat::Standard,
            status: WebhookStatus::Active,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
            last_delivery_at: None,
            last_status_code: None,
            consecutive_failures: 0,
            version: 0,
        };
        assert!(w.wants(ActivityType::Notification));
        assert!(
            !w.wants(EventType::PresenceOnline),
            "presence only when listed"
        );
        w.events = vec![EventType::MeetingBooked, EventType::PresenceOffline];
        assert!(w.wants(ActivityType::MeetingBooked));
        assert!(!w.wants(ActivityType::Notification));
        assert!(w.wants(EventType::PresenceOffline));
        assert!(!w.wants(EventType::PresenceOnline));
    }

    #[test]
    fn event_types_round_trip_and_match_activity_names() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.as_str()), Some(e));
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
            if let Some(kind) = e.activity() {
                assert_eq!(kind.as_str(), e.as_str());
                assert_eq!(EventType::from(kind), e);
            }
        }
        assert_eq!(EventType::parse("presence"), None);
    }
}
