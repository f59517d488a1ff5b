//! Webhook endpoints and their deliveries: what owners manage, and what the
//! delivery actors drive (pending queues, attempts, disabling).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, StoreError};
use crate::ids::{DeliveryId, UserId, WebhookId};
use crate::webhook::{
    AttemptRecord, Delivery, DeliveryAttempt, DeliveryLog, DeliveryQuery, EndpointUpdate,
    EventType, SigningSecrets, Webhook, WebhookChange, WebhookRecord,
};

/// Webhook endpoints, deliveries and attempts.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
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
}
