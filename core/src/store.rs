//! The storage contract. The embedded SQLite store implements it today; the
//! cluster issue adds a Redis implementation. Nothing here assumes SQL: every
//! operation is one call that the back-end makes atomic its own way (a
//! transaction, a Lua script, `MULTI`), and ids and cursors are opaque strings.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::analytics::HourlyCounts;
use crate::ids::{ActivityId, DeliveryId, TaskId, TokenId, UserId, WebhookId};
use crate::model::{
    Activity, ActivityType, IdempotencyKey, NewActivity, Task, TaskKind, TaskStatus, User,
    UserRecord,
};
use crate::webhook::{
    AttemptRecord, Delivery, DeliveryAttempt, DeliveryLog, DeliveryQuery, EndpointUpdate,
    EventType, SigningSecrets, Webhook, WebhookChange, WebhookRecord,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule of the data would be broken; the call changed nothing.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The back-end cannot be reached; the call changed nothing.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else; logged, never shown to callers.
    #[error("store failure: {0}")]
    Internal(String),
}

/// Which rule a conflicting store call would have broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another user has this e-mail (compared case-insensitively).
    #[error("the e-mail is taken")]
    EmailTaken,
    /// The task's stored version is not the one the change was computed from.
    #[error("the task changed since it was read")]
    TaskChanged,
    /// The owner already has the maximum number of webhooks.
    #[error("the owner has the maximum number of webhooks")]
    WebhookLimit,
    /// The user already has the maximum number of personal access tokens.
    #[error("the user has the maximum number of personal access tokens")]
    TokenLimit,
}

/// A new user, password already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub full_name: Option<String>,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// One refresh token of a family (the chain started by one login).
#[derive(Clone, Debug)]
pub struct RefreshTokenRecord {
    /// The token's `jti`.
    pub jti: String,
    /// Shared by every token rotated from the same login.
    pub family: String,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

/// What a portal link grants once: managing one user's webhooks until
/// `expires_at`. Only the SHA-256 of the link's token is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalGrant {
    /// Hex SHA-256 of the one-time token in the link.
    pub token_hash: String,
    /// Whose webhooks the portal shows.
    pub user_id: UserId,
    /// Lists and views only; no change.
    pub read_only: bool,
    /// Neither the link nor the session it opens works after this.
    pub expires_at: DateTime<Utc>,
}

/// What a personal access token may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read the user's activities, tasks, analytics and live stream.
    Read,
    /// Publish activities and create and update tasks.
    Write,
    /// Manage the user's webhooks and REST hook subscriptions.
    Webhooks,
}

impl TokenScope {
    pub const ALL: [TokenScope; 3] = [TokenScope::Read, TokenScope::Write, TokenScope::Webhooks];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Webhooks => "webhooks",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A personal access token as its owner sees it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PersonalToken {
    #[schema(value_type = String, example = "pat_0193c1d2e3f4")]
    pub id: TokenId,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    /// It stops working then; `null`: never.
    #[serde(with = "crate::time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Its last use, to the minute; `null`: never used.
    #[serde(with = "crate::time::option")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A personal access token as stored: its owner and the SHA-256 of the
/// secret (the secret itself is shown once and never kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalTokenRecord {
    pub token: PersonalToken,
    pub user_id: UserId,
    /// Hex SHA-256 of the whole token (`hub_pat_…`).
    pub token_hash: String,
}

/// Result of presenting a refresh token for rotation.
#[derive(Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token is now used and the new one is live.
    Rotated,
    /// The old token had been used before: the whole family is now revoked.
    ReuseDetected,
    /// Unknown, expired, or its family was revoked.
    Invalid,
}

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

/// Filters of the task list, newest first.
#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub kind: Option<TaskKind>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    pub limit: usize,
}

/// One page of a list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
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

/// A task change to persist, checked against the version it was computed from.
#[derive(Clone, Debug)]
pub struct TaskChange {
    pub task: Task,
    pub expected_version: i64,
    /// Stored in the same atomic step (the `task_completed` activity).
    pub activity: Option<NewActivity>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the back-end does (`/ready`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates a user; `Conflict(EmailTaken)` if the e-mail (compared
    /// case-insensitively) exists.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError>;
    /// Atomically marks `old_jti` used and stores `new`, or detects reuse.
    async fn rotate_refresh_token(
        &self,
        old_jti: &str,
        new: RefreshTokenRecord,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError>;
    async fn revoke_refresh_family(&self, family: &str) -> Result<(), StoreError>;

    /// Stores a portal link's grant until it is redeemed or expires.
    async fn create_portal_grant(&self, grant: PortalGrant) -> Result<(), StoreError>;

    // Personal access tokens.
    /// Stores a new token; `Conflict::TokenLimit` when its user already has
    /// `max_per_user`.
    async fn create_personal_token(
        &self,
        record: PersonalTokenRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError>;
    /// The user's tokens, oldest first.
    async fn list_personal_tokens(&self, user: &UserId) -> Result<Vec<PersonalToken>, StoreError>;
    /// Deletes one of the user's tokens; false if it has no such token.
    async fn revoke_personal_token(&self, user: &UserId, id: &TokenId) -> Result<bool, StoreError>;
    /// The token whose secret hashes to `token_hash`, expired or not.
    async fn personal_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<PersonalTokenRecord>, StoreError>;
    /// Records a use of the token (a revoked one is left alone).
    async fn touch_personal_token(&self, id: &TokenId, at: DateTime<Utc>)
        -> Result<(), StoreError>;
    /// Takes the grant whose token hashes to `token_hash`, atomically: of
    /// any number of concurrent callers on any node, at most one gets it.
    /// `None` if there is none, it was taken, or it expired before `now`.
    async fn redeem_portal_grant(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PortalGrant>, StoreError>;

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

    async fn create_task(&self, task: Task) -> Result<(), StoreError>;
    /// One task by id, whoever owns it (callers check ownership).
    async fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError>;
    /// Saves a change if the stored version is still `expected_version`
    /// (`Conflict(TaskChanged)` otherwise); returns the stored activity too.
    async fn update_task(&self, change: TaskChange) -> Result<Option<Activity>, StoreError>;
    async fn list_tasks(&self, user: &UserId, query: TaskQuery) -> Result<Page<Task>, StoreError>;

    // ----- webhooks, as their owner manages them -----

    /// Stores a new endpoint with its signing secret;
    /// `Conflict(WebhookLimit)` if the owner already has `max_per_user`.
    async fn create_webhook(
        &self,
        webhook: Webhook,
        secret: String,
        max_per_user: usize,
    ) -> Result<(), StoreError>;
    /// One endpoint of `owner` (`None` for another user's).
    async fn webhook(&self, owner: &UserId, id: &WebhookId) -> Result<Option<Webhook>, StoreError>;
    /// Every endpoint of `owner`, oldest first (bounded by the per-user limit).
    async fn list_webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>, StoreError>;
    /// Replaces the editable fields; bumps the version.
    async fn update_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        change: WebhookChange,
    ) -> Result<Option<Webhook>, StoreError>;
    /// Deletes the endpoint with its deliveries and their attempts.
    async fn delete_webhook(&self, owner: &UserId, id: &WebhookId) -> Result<bool, StoreError>;
    async fn webhook_secrets(
        &self,
        owner: &UserId,
        id: &WebhookId,
    ) -> Result<Option<SigningSecrets>, StoreError>;
    /// Makes `new_secret` current; the old one keeps signing until
    /// `previous_expires_at`.
    async fn rotate_webhook_secret(
        &self,
        owner: &UserId,
        id: &WebhookId,
        new_secret: String,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<SigningSecrets>, StoreError>;
    /// Re-activates the endpoint and resets its failure count.
    async fn enable_webhook(
        &self,
        owner: &UserId,
        id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, StoreError>;
    /// A page of the deliveries log of one endpoint of `owner`, newest first.
    async fn list_deliveries(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        query: DeliveryQuery,
    ) -> Result<Page<DeliveryLog>, StoreError>;
    /// Puts a delivery back to pending, due at `now`, with a fresh retry
    /// schedule (earlier attempts keep their numbers).
    async fn retry_delivery(
        &self,
        owner: &UserId,
        webhook: &WebhookId,
        delivery: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, StoreError>;

    // ----- webhooks, as the delivery actors drive them -----

    /// One endpoint with its secrets, whoever owns it.
    async fn webhook_record(&self, id: &WebhookId) -> Result<Option<WebhookRecord>, StoreError>;
    /// Every active endpoint (loaded at start).
    async fn active_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError>;
    /// Pending deliveries of one endpoint in creation order, after the cursor.
    async fn pending_deliveries(
        &self,
        webhook: &WebhookId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError>;
    /// Stores an attempt, the delivery's new status and the endpoint's new
    /// counters (and its disabling) in one atomic step. An attempt whose
    /// number is not above the delivery's count changes nothing (a stale
    /// write after a newer one).
    async fn record_attempt(&self, record: AttemptRecord) -> Result<(), StoreError>;
    /// Stores, as one atomic step, a pending delivery of a non-activity event
    /// (presence) carrying `payload` for every active endpoint of `user`
    /// that lists `event` by name (an empty list takes activities only), and
    /// announces them (`deliveries_committed`). Nothing else is stored: such
    /// events are not history and not counted.
    async fn enqueue_event(
        &self,
        user: &UserId,
        event: EventType,
        payload: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Stores a `webhook.test` delivery together with its only attempt.
    async fn record_test_delivery(
        &self,
        delivery: Delivery,
        attempt: DeliveryAttempt,
        endpoint: EndpointUpdate,
    ) -> Result<(), StoreError>;

    /// The analytics counters of `user` for every UTC hour that starts in
    /// `[from, to)`, oldest first. Every append (single, bulk, or the
    /// `task_completed` activity of a task update) increments them in the same
    /// atomic step that stores the activity, bucketed by the activity's
    /// `created_at`. Hours in which nothing was counted may be left out.
    async fn hourly_counts(
        &self,
        user: &UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourlyCounts>, StoreError>;

    /// Flushes pending writes; called on shutdown.
    async fn flush(&self) -> Result<(), StoreError>;
}

/// Cluster-wide session figures (cluster mode).
#[derive(Clone, Copy, Debug)]
pub struct ClusterCounts {
    /// Sessions held by the other live nodes.
    pub sessions_elsewhere: usize,
    /// Distinct users with a session on any live node, this one included.
    pub users_online: usize,
}

/// Where `/api/ws/status` gets cluster-wide counts.
#[async_trait]
pub trait ClusterView: Send + Sync + 'static {
    async fn counts(&self) -> Result<ClusterCounts, StoreError>;
}

/// Ownership of webhook endpoints across nodes (cluster mode): exactly one
/// node runs an endpoint's delivery actor at a time. A lease has a TTL and is
/// renewed by its holder; when the holder dies, it lapses and another node
/// takes the endpoint over.
#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the lease of `id` if free (or already ours, renewing it).
    async fn acquire(&self, id: &WebhookId) -> Result<bool, StoreError>;
    /// Renews every lease in `ids`; returns those this node no longer holds.
    async fn renew(&self, ids: &[WebhookId]) -> Result<Vec<WebhookId>, StoreError>;
    /// Gives a lease up (the endpoint stopped here).
    async fn release(&self, id: &WebhookId) -> Result<(), StoreError>;
    /// How long a lease lasts unless renewed.
    fn ttl(&self) -> std::time::Duration;
}
