//! The domain model: users, activities (the events) and tasks, as stored and
//! as sent on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ActivityId, TaskId, UserId};

/// A user as every API response shows it (never with the password hash).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    #[schema(value_type = String, example = "usr_0193c1d2e3f4")]
    pub id: UserId,
    pub email: String,
    pub full_name: Option<String>,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
}

/// A user together with what login needs to check.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub user: User,
    /// PHC string of the Argon2id hash.
    pub password_hash: String,
}

/// The kinds of activity the hub knows. Unknown kinds are rejected (422), so a
/// typo in a worker never creates an event nobody subscribes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityType {
    ProspectAdded,
    ResearchCompleted,
    OutreachSent,
    MeetingBooked,
    ContentPublished,
    TaskCompleted,
    AutomationTriggered,
    Notification,
}

impl ActivityType {
    pub const ALL: [ActivityType; 8] = [
        ActivityType::ProspectAdded,
        ActivityType::ResearchCompleted,
        ActivityType::OutreachSent,
        ActivityType::MeetingBooked,
        ActivityType::ContentPublished,
        ActivityType::TaskCompleted,
        ActivityType::AutomationTriggered,
        ActivityType::Notification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityType::ProspectAdded => "prospect_added",
            ActivityType::ResearchCompleted => "research_completed",
            ActivityType::OutreachSent => "outreach_sent",
            ActivityType::MeetingBooked => "meeting_booked",
            ActivityType::ContentPublished => "content_published",
            ActivityType::TaskCompleted => "task_completed",
            ActivityType::AutomationTriggered => "automation_triggered",
            ActivityType::Notification => "notification",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// A stored activity.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    #[schema(value_type = String, example = "0000000000000000042")]
    pub id: ActivityId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    #[serde(rename = "type")]
    pub kind: ActivityType,
    pub title: String,
    pub message: Option<String>,
    /// Free-form JSON object.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub link: Option<String>,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
}

/// An activity about to be stored; the store assigns its id.
#[derive(Clone, Debug)]
pub struct NewActivity {
    pub user_id: UserId,
    pub kind: ActivityType,
    pub title: String,
    pub message: Option<String>,
    pub metadata: serde_json::Value,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What makes a retried create recognisable.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    /// The caller's `Idempotency-Key` header.
    pub key: String,
    /// Hash of the request body: the same key with another body is a conflict.
    pub fingerprint: String,
}

/// Kinds of long-running work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Research,
    Outreach,
    Content,
    Automation,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Research => "research",
            TaskKind::Outreach => "outreach",
            TaskKind::Content => "content",
            TaskKind::Automation => "automation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            TaskKind::Research,
            TaskKind::Outreach,
            TaskKind::Content,
            TaskKind::Automation,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            TaskStatus::Queued,
            TaskStatus::Running,
            TaskStatus::Completed,
            TaskStatus::Failed,
            TaskStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }

    /// The status machine: `queued → running → completed | failed | cancelled`,
    /// and `queued → cancelled`. Staying in the same status is allowed (a
    /// progress update while running).
    pub fn can_move_to(self, next: TaskStatus) -> bool {
        use TaskStatus::*;
        matches!(
            (self, next),
            (Queued, Queued)
                | (Queued, Running)
                | (Queued, Cancelled)
                | (Running, Running)
                | (Running, Completed)
                | (Running, Failed)
                | (Running, Cancelled)
        )
    }
}

/// A task as stored and as shown.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Task {
    #[schema(value_type = String)]
    pub id: TaskId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub kind: TaskKind,
    pub title: String,
    pub status: TaskStatus,
    /// 0–100, never decreasing.
    pub progress: u8,
    pub message: Option<String>,
    pub eta_seconds: Option<u64>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::time::option")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::option")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency counter; bumped by every update.
    #[serde(skip)]
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_status_machine() {
        use TaskStatus::*;
        assert!(Queued.can_move_to(Running));
        assert!(Queued.can_move_to(Cancelled));
        assert!(!Queued.can_move_to(Completed));
        assert!(!Queued.can_move_to(Failed));
        assert!(Running.can_move_to(Completed));
        assert!(Running.can_move_to(Failed));
        assert!(!Running.can_move_to(Queued));
        for terminal in [Completed, Failed, Cancelled] {
            for next in [Queued, Running, Completed, Failed, Cancelled] {
                assert!(!terminal.can_move_to(next), "{terminal:?} -> {next:?}");
            }
        }
    }

    #[test]
    fn activity_types_round_trip() {
        for t in ActivityType::ALL {
            assert_eq!(ActivityType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                serde_json::Value::String(t.as_str().into())
            );
        }
        assert_eq!(ActivityType::parse("prospect-added"), None);
    }
}
