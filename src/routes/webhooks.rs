//! `/api/webhooks`: endpoints that receive signed deliveries of a user's
//! activities, their secrets, and the log of every delivery attempt.
//!
//! Handlers validate (URL shape, the SSRF guard, event types), write through
//! the store, then tell the `WebhookRegistry` that the endpoint changed; the
//! registry re-reads it and starts, reconfigures or stops its actor. Every
//! route is owner-only: another user's webhook is a 404. A service key acts
//! for the user it names in `user_id`.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::Utc;
use hub_actors::webhooks::registry::{RetryDelivery, TestWebhook, WebhookChanged, WebhookRemoved};
use hub_actors::webhooks::{signing, ssrf};
use hub_core::store::Conflict;
use hub_core::store::Page;
use hub_core::webhook::{
    self, Delivery, DeliveryAttempt, DeliveryLog, DeliveryQuery, DeliveryStatus, EventType,
    Webhook, WebhookChange, WebhookFormat, WebhookRecord, WebhookStatus, TEST_EVENT,
};
use hub_core::{DeliveryId, StoreError, UserId, WebhookId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::extract::{Json, Query};
use crate::routes::activities::{page_limit, target_user, OnBehalf};
use crate::state::AppState;

/// Longest description kept with a webhook.
const MAX_DESCRIPTION_CHARS: usize = 500;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An http(s) URL on the public internet. Its form is the `pattern`; one
    /// of that form aimed at a loopback, private or otherwise non-public
    /// address is refused with 403 `target_not_allowed`.
    #[schema(example = "https://hooks.example.com/aiclone")]
    pub url: String,
    /// Event types to deliver; empty or absent means every activity type.
    /// `presence.online` and `presence.offline` arrive only when listed.
    #[serde(default)]
    #[schema(value_type = Vec<EventType>)]
    pub events: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// The body it receives: `standard` (signed Standard Webhooks envelope,
    /// the default), `slack` or `discord` (an incoming-webhook message, not
    /// signed: the URL is the secret).
    pub format: Option<WebhookFormat>,
    /// Required with a service key (the user acted for); a user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
}

/// `PUT`: the new configuration, whole (an absent description clears it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceWebhook {
    pub url: String,
    #[serde(default)]
    #[schema(value_type = Vec<EventType>)]
    pub events: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// The body it receives: `standard` (signed Standard Webhooks envelope,
    /// the default), `slack` or `discord` (an incoming-webhook message, not
    /// signed: the URL is the secret).
    pub format: Option<WebhookFormat>,
}

/// `PATCH`: only the fields given change (`description: null` clears it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhook {
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<EventType>>)]
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 500)]
    pub description: Option<Option<String>>,
    /// The body it receives: `standard` (signed Standard Webhooks envelope,
    /// the default), `slack` or `discord` (an incoming-webhook message, not
    /// signed: the URL is the secret).
    pub format: Option<WebhookFormat>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A new webhook, with the only copy of its secret besides `GET …/secret`.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64 of 32 random bytes: the Standard Webhooks key.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
    /// Always null: a user's webhooks fit in one page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookSecret {
    pub secret: String,
    /// While set, the previous secret still signs too (after a rotation).
    #[serde(with = "hub_core::time::option")]
    pub previous_secret_expires_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct SecretRotated {
    /// Until then deliveries carry two signatures: the new secret's and the old one's.
    #[serde(with = "hub_core::time")]
    pub previous_secret_expires_at: chrono::DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct TestResult {
    /// The `webhook-id` of the test delivery.
    #[schema(value_type = String)]
    pub delivery_id: DeliveryId,
    pub event_type: String,
    /// True when the endpoint answered 2xx within the timeout.
    pub succeeded: bool,
    pub attempt: DeliveryAttempt,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryLog>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RetryQueued {
    #[schema(value_type = String)]
    pub delivery_id: DeliveryId,
    pub status: DeliveryStatus,
    #[serde(with = "hub_core::time::option")]
    pub next_attempt_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// Only deliveries in this state.
    #[param(value_type = Option<DeliveryStatus>)]
    pub status: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page (an opaque token of this list).
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Required with a service key: whose webhook. A user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// A refused URL: its field error, and whether it was refused for where it
/// points (403) rather than for its form (422).
struct UrlRefusal {
    error: FieldError,
    blocked: bool,
}

/// Checks the URL's form and, unless private targets are allowed, that it
/// does not reach a non-public address.
async fn check_url(state: &AppState, url: &str) -> Result<String, UrlRefusal> {
    let refused = |e: ssrf::UrlError| UrlRefusal {
        blocked: matches!(e, ssrf::UrlError::Blocked { .. }),
        error: field("url", e.to_string()),
    };
    let parsed = ssrf::parse_url(url).map_err(refused)?;
    let policy = ssrf::TargetPolicy::from_settings(&state.settings.webhooks);
    ssrf::validate_target(&parsed, &policy)
        .await
        .map_err(refused)?;
    Ok(parsed.to_string())
}

fn check_events(names: &[String]) -> Result<Vec<EventType>, FieldError> {
    let mut events = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let kind = EventType::parse(name.trim()).ok_or_else(|| {
            field(
                &format!("events[{i}]"),
                format!("{name:?} is not an event type (an activity type or presence.online / presence.offline)"),
            )
        })?;
        if !events.contains(&kind) {
            events.push(kind);
        }
    }
    Ok(events)
}

fn check_description(description: Option<String>) -> Result<Option<String>, FieldError> {
    let description = description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        return Err(field(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(description)
}

/// Validates a whole configuration, reporting every bad field at once.
async fn check_config(
    state: &AppState,
    url: &str,
    events: &[String],
    description: Option<String>,
) -> ApiResult<(String, Vec<EventType>, Option<String>)> {
    let mut fields = Vec::new();
    let mut blocked = false;
    let url = check_url(state, url)
        .await
        .map_err(|r| {
            blocked = r.blocked;
            fields.push(r.error)
        })
        .ok();
    let events = check_events(events).map_err(|e| fields.push(e)).ok();
    let description = check_description(description)
        .map_err(|e| fields.push(e))
        .ok();
    match (url, events, description) {
        (Some(url), Some(events), Some(description)) => Ok((url, events, description)),
        // Well formed, but aimed where webhooks may not go.
        (None, Some(_), Some(_)) if blocked => Err(ApiError::refused_target(fields)),
        _ => Err(ApiError::validation(fields)),
    }
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::WebhookNotFound, "No such webhook.")
}

fn webhook_id(path: &str) -> WebhookId {
    WebhookId(path.to_owned())
}

/// Tells the webhook registry the endpoint's state after a committed change.
/// The change stands even if this fails; the registry's resync catches up.
async fn announce(state: &AppState, id: &WebhookId) {
    match state.store.webhook_record(id).await {
        Ok(Some(record)) => state.webhooks.do_send(WebhookChanged(record)),
        Ok(None) => state.webhooks.do_send(WebhookRemoved(id.clone())),
        Err(e) => tracing::error!(webhook_id = %id, cause = %e, "cannot read a changed webhook"),
    }
}

async fn owned(state: &AppState, owner: &UserId, id: &WebhookId) -> ApiResult<Webhook> {
    state.store.webhook(owner, id).await?.ok_or_else(not_found)
}

/// Create a webhook endpoint. The response is the only one, besides
/// `GET /api/webhooks/{id}/secret`, that shows its signing secret.
#[utoipa::path(
    post, path = "/api/webhooks", tag = "webhooks",
    request_body = CreateWebhook,
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created, with its secret", body = CreatedWebhook),
        (status = 409, description = "The user has the maximum number of webhooks", body = crate::error::ErrorBody),
        (status = 422, description = "A URL not of the accepted form, or an unknown event type", body = crate::error::ErrorBody),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateWebhook>,
) -> ApiResult<HttpResponse> {
    let (url, events, description) =
        check_config(&state, &body.url, &body.events, body.description).await?;
    let owner = target_user(&state, &caller, body.user_id).await?;
    let created = create_checked(
        &state,
        owner,
        url,
        events,
        description,
        body.format.unwrap_or_default(),
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Validates a configuration (URL form and target, events, description),
/// answering 422 or 403 as `POST /api/webhooks` does.
pub(crate) async fn check_new(
    state: &AppState,
    url: &str,
    events: &[String],
    description: Option<String>,
) -> ApiResult<(String, Vec<EventType>, Option<String>)> {
    check_config(state, url, events, description).await
}

/// Stores a new, already validated endpoint and starts delivering to it.
pub(crate) async fn create_checked(
    state: &AppState,
    owner: UserId,
    url: String,
    events: Vec<EventType>,
    description: Option<String>,
    format: WebhookFormat,
) -> ApiResult<CreatedWebhook> {
    let now = hub_core::time::now();
    let webhook = Webhook {
        id: WebhookId::generate(),
        user_id: owner,
        url,
        events,
        description,
        format,
        status: WebhookStatus::Active,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
        last_delivery_at: None,
        last_status_code: None,
        consecutive_failures: 0,
        version: 0,
    };
    let secret = signing::generate_secret();
    let max = state.settings.webhooks.max_per_user;
    match state
        .store
        .create_webhook(webhook.clone(), secret.clone(), max)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(Conflict::WebhookLimit)) => {
            return Err(ApiError::new(
                ErrorCode::WebhookLimit,
                format!("A user may have at most {max} webhooks; delete one first."),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    announce(state, &webhook.id).await;
    Ok(CreatedWebhook { webhook, secret })
}

/// List the caller's webhooks, oldest first.
#[utoipa::path(
    get, path = "/api/webhooks", tag = "webhooks",
    params(OnBehalf),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses((status = 200, description = "Every webhook of the user", body = WebhookList))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let items = state.store.list_webhooks(&owner).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items,
        next_cursor: None,
    }))
}

/// One webhook.
#[utoipa::path(
    get, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let webhook = owned(&state, &owner, &webhook_id(&id)).await?;
    Ok(HttpResponse::Ok().json(webhook))
}

async fn save_change(
    state: &AppState,
    owner: &UserId,
    id: &WebhookId,
    change: WebhookChange,
) -> ApiResult<HttpResponse> {
    let webhook = state
        .store
        .update_webhook(owner, id, change)
        .await?
        .ok_or_else(not_found)?;
    announce(state, id).await;
    Ok(HttpResponse::Ok().json(webhook))
}

/// Replace a webhook's URL, events and description.
#[utoipa::path(
    put, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    request_body = ReplaceWebhook,
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Updated", body = Webhook),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields", body = crate::error::ErrorBody),
    )
)]
#[put("/webhooks/{id}")]
pub async fn replace_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
    Json(body): Json<ReplaceWebhook>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let id = webhook_id(&id);
    owned(&state, &owner, &id).await?;
    let (url, events, description) =
        check_config(&state, &body.url, &body.events, body.description).await?;
    let change = WebhookChange {
        url,
        events,
        description,
        format: body.format.unwrap_or_default(),
        updated_at: hub_core::time::now(),
    };
    save_change(&state, &owner, &id, change).await
}

/// Change some of a webhook's URL, events and description.
#[utoipa::path(
    patch, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    request_body = PatchWebhook,
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Updated", body = Webhook),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields", body = crate::error::ErrorBody),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn patch_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
    Json(body): Json<PatchWebhook>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let id = webhook_id(&id);
    let current = owned(&state, &owner, &id).await?;
    let url = body.url.unwrap_or(current.url);
    let events = body.events.unwrap_or_else(|| {
        current
            .events
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect()
    });
    let description = body.description.unwrap_or(current.description);
    let (url, events, description) = check_config(&state, &url, &events, description).await?;
    let change = WebhookChange {
        url,
        events,
        description,
        format: body.format.unwrap_or(current.format),
        updated_at: hub_core::time::now(),
    };
    save_change(&state, &owner, &id, change).await
}

/// Delete a webhook with its deliveries log. Pending deliveries are dropped.
#[utoipa::path(
    delete, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    delete_owned(&state, &owner, webhook_id(&id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes one of `owner`'s endpoints (404 if it has none with this id).
pub(crate) async fn delete_owned(state: &AppState, owner: &UserId, id: WebhookId) -> ApiResult<()> {
    if !state.store.delete_webhook(owner, &id).await? {
        return Err(not_found());
    }
    state.webhooks.do_send(WebhookRemoved(id));
    Ok(())
}

/// The webhook's signing secret.
#[utoipa::path(
    get, path = "/api/webhooks/{id}/secret", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The current secret", body = WebhookSecret),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
    )
)]
#[get("/webhooks/{id}/secret")]
pub async fn get_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let secrets = state
        .store
        .webhook_secrets(&owner, &webhook_id(&id))
        .await?
        .ok_or_else(not_found)?;
    let now = Utc::now();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookSecret {
            secret: secrets.current,
            previous_secret_expires_at: secrets.previous_expires_at.filter(|t| *t > now),
        }))
}

/// Rotate the signing secret. For `webhooks.secret_rotation_overlap` (24 h by
/// default) deliveries are signed with both the new and the old secret; read
/// the new one with `GET /api/webhooks/{id}/secret`.
#[utoipa::path(
    post, path = "/api/webhooks/{id}/secret/rotate", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Rotated", body = SecretRotated),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
    )
)]
#[post("/webhooks/{id}/secret/rotate")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let id = webhook_id(&id);
    let now = hub_core::time::now();
    let overlap = chrono::Duration::from_std(state.settings.webhooks.secret_rotation_overlap.0)
        .unwrap_or(chrono::Duration::hours(24));
    let until = now + overlap;
    state
        .store
        .rotate_webhook_secret(&owner, &id, signing::generate_secret(), until, now)
        .await?
        .ok_or_else(not_found)?;
    announce(&state, &id).await;
    Ok(HttpResponse::Ok().json(SecretRotated {
        previous_secret_expires_at: until,
    }))
}

/// Re-enable a disabled webhook and reset its failure count. Deliveries still
/// pending from before it was disabled go out again.
#[utoipa::path(
    post, path = "/api/webhooks/{id}/enable", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Active again", body = Webhook),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
    )
)]
#[post("/webhooks/{id}/enable")]
pub async fn enable_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let id = webhook_id(&id);
    let webhook = state
        .store
        .enable_webhook(&owner, &id, hub_core::time::now())
        .await?
        .ok_or_else(not_found)?;
    announce(&state, &id).await;
    Ok(HttpResponse::Ok().json(webhook))
}

/// Send a `webhook.test` event to the endpoint now and return the attempt. It
/// appears in the deliveries log; it is not retried, and a failure does not
/// count towards disabling the endpoint.
#[utoipa::path(
    post, path = "/api/webhooks/{id}/test", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), OnBehalf),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The attempt (whatever the endpoint answered)", body = TestResult),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let owner = target_user(&state, &caller, q.user_id).await?;
    let id = webhook_id(&id);
    let record = state
        .store
        .webhook_record(&id)
        .await?
        .filter(|r| r.webhook.user_id == owner)
        .ok_or_else(not_found)?;
    let delivery = test_delivery(&record);
    let delivery_id = delivery.id.clone();
    let attempt = state
        .webhooks
        .send(TestWebhook { record, delivery })
        .await
        .map_err(ApiError::internal)??;
    Ok(HttpResponse::Ok().json(TestResult {
        delivery_id,
        event_type: TEST_EVENT.to_owned(),
        succeeded: attempt.status_code.is_some_and(|c| (200..300).contains(&c)),
        attempt,
    }))
}

fn test_delivery(record: &WebhookRecord) -> Delivery {
    let now = hub_core::time::now();
    let data = serde_json::json!({
        "webhook_id": record.webhook.id,
        "message": "This is a test delivery from AI Clone Hub.",
    });
    Delivery::pending(
        DeliveryId::generate(),
        record.webhook.id.clone(),
        record.webhook.user_id.clone(),
        TEST_EVENT,
        webhook::envelope(TEST_EVENT, now, &data),
        now,
    )
}

/// The deliveries log, newest first: every delivery with every attempt.
#[utoipa::path(
    get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), ListDeliveries),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page", body = DeliveryPage),
        (status = 404, description = "No such webhook of yours", body = crate::error::ErrorBody),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(q): Query<ListDeliveries>,
) -> ApiResult<HttpResponse> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::field(
                    "status",
                    format!("{s:?} is not pending, succeeded or failed"),
                )
            })
        })
        .transpose()?;
    if q.cursor
        .as_deref()
        .is_some_and(|c| c.parse::<i64>().is_err())
    {
        return Err(ApiError::field("cursor", "is not a cursor of this list"));
    }
    let limit = page_limit(q.limit)?;
    let owner = target_user(&state, &caller, q.user_id).await?;
    let id = webhook_id(&id);
    let format = owned(&state, &owner, &id).await?.format;
    let Page {
        mut items,
        next_cursor,
    } = state
        .store
        .list_deliveries(
            &owner,
            &id,
            DeliveryQuery {
                status,
                cursor: q.cursor,
                limit,
            },
        )
        .await?;
    for item in &mut items {
        item.body = format.render(&item.body);
    }
    Ok(HttpResponse::Ok().json(DeliveryPage { items, next_cursor }))
}

/// Deliver again now, with a fresh retry schedule and the same `webhook-id`.
#[utoipa::path(
    post, path = "/api/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(
        ("id" = String, Path, description = "Webhook id"),
        ("delivery_id" = String, Path, description = "Delivery id (the webhook-id header)"),
        OnBehalf,
    ),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 202, description = "Queued", body = RetryQueued),
        (status = 404, description = "No such webhook or delivery of yours", body = crate::error::ErrorBody),
        (status = 409, description = "The webhook is disabled; enable it first", body = crate::error::ErrorBody),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    Query(q): Query<OnBehalf>,
) -> ApiResult<HttpResponse> {
    let (id, delivery_id) = path.into_inner();
    let owner = target_user(&state, &caller, q.user_id).await?;
    let id = webhook_id(&id);
    let webhook = owned(&state, &owner, &id).await?;
    if webhook.status != WebhookStatus::Active {
        return Err(ApiError::new(
            ErrorCode::WebhookDisabled,
            "The webhook is disabled; enable it before retrying deliveries.",
        ));
    }
    let delivery = state
        .store
        .retry_delivery(&owner, &id, &DeliveryId(delivery_id), hub_core::time::now())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::DeliveryNotFound, "No such delivery."))?;
    let queued = RetryQueued {
        delivery_id: delivery.id.clone(),
        status: delivery.status,
        next_attempt_at: delivery.next_attempt_at,
    };
    state.webhooks.do_send(RetryDelivery(delivery));
    Ok(HttpResponse::Accepted().json(queued))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_checked_and_deduplicated() {
        let ok = check_events(&["meeting_booked".into(), " meeting_booked".into()]).unwrap();
        assert_eq!(ok, vec![EventType::MeetingBooked]);
        let presence = check_events(&["presence.offline".into()]).unwrap();
        assert_eq!(presence, vec![EventType::PresenceOffline]);
        let err = check_events(&["notification".into(), "webhook.test".into()]).unwrap_err();
        assert_eq!(err.field, "events[1]");
        assert!(check_events(&[]).unwrap().is_empty());
    }

    #[test]
    fn descriptions_are_trimmed_and_bounded() {
        assert_eq!(check_description(Some("  ".into())).unwrap(), None);
        assert_eq!(
            check_description(Some(" CRM ".into())).unwrap().as_deref(),
            Some("CRM")
        );
        assert!(check_description(Some("x".repeat(MAX_DESCRIPTION_CHARS + 1))).is_err());
    }
}
