//! Activities and the per-user history: the ordered, durable append every
//! event goes through, the lists and scans over it, and the resume window.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, StoreError};
use crate::ids::{ActivityId, UserId};
use crate::model::{Activity, ActivityType, IdempotencyKey, NewActivity};

/// Result of appending an activity.
#[derive(Debug)]
pub enum AppendOutcome {
    /// Stored now.
    Created(Activity),
    /// The idempotency key was seen with the same body: the earlier activity.
    Replayed(Activity),
    /// The idempotency key was seen with another body.
    KeyReused,
}

/// Filters of the activity list, newest first.
#[derive(Clone, Debug, Default)]
pub struct ActivityQuery {
    pub kind: Option<ActivityType>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Return items older than this id (the previous page's cursor).
    pub before: Option<ActivityId>,
    pub limit: usize,
}

/// A forward walk over one user's activities in id order (oldest first), one
/// page per call: what exports stream from. Resuming after the last id of the
/// previous page (keyset pagination) keeps every page as cheap as the first.
#[derive(Clone, Debug, Default)]
pub struct ActivityScan {
    /// Only these types; empty means every type.
    pub kinds: Vec<ActivityType>,
    /// Only activities created at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only activities created before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Only activities with a greater id (the last id of the previous page).
    pub after: Option<ActivityId>,
    pub limit: usize,
}

/// What the resume history holds after a given id.
#[derive(Clone, Debug)]
pub struct Replay {
    /// Events after the id that history still holds, oldest first.
    pub events: Vec<Activity>,
    /// False when events after the id have already left the history.
    pub complete: bool,
}

/// Bounds of the per-user resume history.
#[derive(Clone, Copy, Debug)]
pub struct HistoryWindow {
    pub max_events: usize,
    pub max_age: chrono::Duration,
}

/// The activity log.
#[async_trait]
pub trait ActivityStore: Send + Sync + 'static {
    /// Durably appends an activity (assigning its ordered id), honouring the
    /// idempotency key if given. In the same atomic step it stores a pending
    /// [`Delivery`] for every active webhook of the user that subscribes to
    /// the activity's type, and announces them (`deliveries_committed`) after
    /// the activity: a delivery exists before the caller's 201 does.
    /// Activities stored by other calls (`update_task`) do the same.
    async fn append_activity(
        &self,
        activity: NewActivity,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError>;
    /// Durably appends several activities of any users as one atomic step
    /// (all stored, or none), in order, each counted in analytics like a
    /// single append. No idempotency keys: this is the bulk import path.
    async fn append_activities(
        &self,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<Activity>, StoreError>;
    /// One activity by id, whoever owns it (callers check ownership).
    async fn activity(&self, id: &ActivityId) -> Result<Option<Activity>, StoreError>;
    async fn list_activities(
        &self,
        user: &UserId,
        query: ActivityQuery,
    ) -> Result<Page<Activity>, StoreError>;
    /// One page of `user`'s activities in id order, oldest first (exports).
    async fn scan_activities(
        &self,
        user: &UserId,
        scan: ActivityScan,
    ) -> Result<Vec<Activity>, StoreError>;
    /// The resume history after `after`, bounded by `window`.
    async fn replay_after(
        &self,
        user: &UserId,
        after: &ActivityId,
        window: HistoryWindow,
        now: DateTime<Utc>,
    ) -> Result<Replay, StoreError>;
}
