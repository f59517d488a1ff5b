//! `/api/activities` and `/api/broadcast`: publishing and reading events.
//!
//! Publishing is one call into the store; the store announces the committed
//! activity to the bus in id order, which pushes it to the user's sessions.
//! The 201 therefore means "durably stored and on its way".

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use hub_core::model::{Activity, ActivityType, IdempotencyKey, NewActivity};
use hub_core::store::{ActivityQuery, AppendOutcome};
use hub_core::{ActivityId, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::extract::{Json, Query};
use crate::state::AppState;

const MAX_TITLE_CHARS: usize = 200;
const MAX_MESSAGE_CHARS: usize = 5_000;
const MAX_LINK_LEN: usize = 2_048;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// How far in the future a back-dated `created_at` may be: room for a
/// worker's clock running ahead, not for scheduling events.
const MAX_CREATED_AT_SKEW: chrono::Duration = chrono::Duration::minutes(5);
/// Activities one bulk import may carry (the body limit still applies).
pub const MAX_BULK_ACTIVITIES: usize = 1_000;
pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 200;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActivity {
    #[serde(rename = "type")]
    pub kind: ActivityType,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 5000)]
    pub message: Option<String>,
    /// A JSON object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// An http(s) URL or an absolute path in the app.
    #[schema(max_length = 2048, pattern = r"^(https?://|/([^/]|$))")]
    pub link: Option<String>,
    /// Required with a service key (the user acted for); a user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
    /// Service keys only (a user token sending it gets 403): when the event
    /// happened, for imports and back-filled history. RFC 3339, kept to the
    /// millisecond, from 1970 up to 5 minutes ahead of the hub's clock;
    /// analytics count the activity in the hour of this time. Default: now.
    #[serde(
        default,
        with = "hub_core::time::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<DateTime<Utc>>,
}

/// One activity of a bulk import.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    #[serde(rename = "type")]
    pub kind: ActivityType,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 5000)]
    pub message: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    #[schema(max_length = 2048, pattern = r"^(https?://|/([^/]|$))")]
    pub link: Option<String>,
    /// As in a single create; default now.
    #[serde(default, with = "hub_core::time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `POST /api/activities/bulk`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkCreate {
    /// The user every activity belongs to.
    pub user_id: String,
    /// 1 to 1,000 activities, stored in this order.
    #[schema(min_items = 1, max_items = 1000)]
    pub activities: Vec<BulkItem>,
}

/// What a bulk import stored.
#[derive(Serialize, ToSchema)]
pub struct BulkCreated {
    pub created: usize,
    /// Ids of the stored activities, in the order given.
    pub ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityPage {
    pub items: Vec<Activity>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListActivities {
    /// Only this activity type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<ActivityType>)]
    pub kind: Option<String>,
    /// RFC 3339; inclusive.
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// RFC 3339; exclusive.
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page (an opaque token of this list).
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Required with a service key: whose activities. A user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OnBehalf {
    /// Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
}

/// Most user ids a worker thread remembers as existing; past it the set
/// starts over (it only saves a store read).
const MAX_KNOWN_USERS: usize = 65_536;

thread_local! {
    /// Users this worker has seen to exist. Users are never deleted, so a
    /// user once found stays found: a service's publish for a known user
    /// needs no store read (and no trip to a reader thread) before its write.
    static KNOWN_USERS: std::cell::RefCell<std::collections::HashSet<UserId>> =
        std::cell::RefCell::new(std::collections::HashSet::new());
}

fn known_user(id: &UserId) -> bool {
    KNOWN_USERS.with(|known| known.borrow().contains(id))
}

fn remember_user(id: &UserId) {
    KNOWN_USERS.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() >= MAX_KNOWN_USERS {
            known.clear();
        }
        known.insert(id.clone());
    });
}

/// Works out whose data a call acts on, and checks the user exists when a
/// service names one.
pub async fn target_user(
    state: &AppState,
    caller: &Caller,
    named: Option<String>,
) -> ApiResult<UserId> {
    match (caller, named) {
        (Caller::User(me), None) => Ok(me.clone()),
        (Caller::User(me), Some(named)) if named == me.0 => Ok(me.clone()),
        (Caller::User(_), Some(_)) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "A user token acts only on its own data; omit user_id.",
        )),
        (Caller::Service, None) => Err(ApiError::new(
            ErrorCode::UserIdRequired,
            "A service key acts for a user: name it with user_id.",
        )),
        (Caller::Service, Some(named)) => {
            let id = UserId(named);
            if known_user(&id) {
                return Ok(id);
            }
            match state.store.user_by_id(&id).await? {
                Some(_) => {
                    remember_user(&id);
                    Ok(id)
                }
                None => Err(ApiError::new(
                    ErrorCode::UserNotFound,
                    "No user has this id.",
                )),
            }
        }
    }
}

/// May `caller` see data of `owner`? (404 otherwise: never reveal it exists.)
pub fn can_see(caller: &Caller, owner: &UserId) -> bool {
    match caller {
        Caller::Service => true,
        Caller::User(me) => me == owner,
    }
}

pub fn parse_time(field: &str, value: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| ApiError::field(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

pub fn page_limit(limit: Option<usize>) -> ApiResult<usize> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        )),
    }
}

fn validate(body: &CreateActivity) -> Vec<FieldError> {
    validate_fields(
        "",
        &body.title,
        body.message.as_deref(),
        body.metadata.as_ref(),
        body.link.as_deref(),
        body.created_at,
    )
}

/// The field rules of an activity; `prefix` names where it sits in the body.
fn validate_fields(
    prefix: &str,
    title: &str,
    message: Option<&str>,
    metadata: Option<&serde_json::Value>,
    link: Option<&str>,
    created_at: Option<DateTime<Utc>>,
) -> Vec<FieldError> {
    let mut fields = Vec::new();
    let mut bad = |field: &str, message: String| {
        fields.push(FieldError {
            field: format!("{prefix}{field}"),
            message,
        })
    };
    if let Some(t) = created_at {
        if t < DateTime::<Utc>::UNIX_EPOCH {
            bad("created_at", "must not be before 1970".into());
        } else if t > Utc::now() + MAX_CREATED_AT_SKEW {
            bad(
                "created_at",
                format!(
                    "must not be more than {} minutes in the future",
                    MAX_CREATED_AT_SKEW.num_minutes()
                ),
            );
        }
    }
    let title = title.trim();
    if title.is_empty() {
        bad("title", "must not be empty".into());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        bad(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        );
    }
    if message.is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS) {
        bad(
            "message",
            format!("must be at most {MAX_MESSAGE_CHARS} characters"),
        );
    }
    if metadata.is_some_and(|m| !m.is_object()) {
        bad("metadata", "must be a JSON object".into());
    }
    if let Some(link) = link {
        let ok = link.len() <= MAX_LINK_LEN
            && (link.starts_with("https://")
                || link.starts_with("http://")
                || (link.starts_with('/') && !link.starts_with("//")));
        if !ok {
            bad("link", "must be an http(s) URL or an absolute path".into());
        }
    }
    fields
}

/// Publish an activity: stored durably, then pushed to the user's sessions.
///
/// Service keys may back-date it with `created_at` (imports, history,
/// tests); analytics count it in the hour of that time. A user token that
/// sends `created_at` gets 403 `service_key_required`.
#[utoipa::path(
    post, path = "/api/activities", tag = "activities",
    request_body = CreateActivity,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first activity (24 h). 1 to 255 visible ASCII characters.", pattern = r"^[!-~]{1,255}$")),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Stored", body = Activity),
        (status = 403, description = "created_at sent with a user token, or another user's user_id", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown user_id", body = crate::error::ErrorBody),
        (status = 409, description = "Idempotency key reused with another body", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields", body = crate::error::ErrorBody),
    )
)]
#[post("/activities")]
pub async fn create_activity(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    Json(body): Json<CreateActivity>,
) -> ApiResult<HttpResponse> {
    if body.created_at.is_some() && !caller.is_service() {
        return Err(ApiError::new(
            ErrorCode::ServiceKeyRequired,
            "Only service keys may set created_at (back-dated activities).",
        ));
    }
    let fields = validate(&body);
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    let idempotency = idempotency_key(&req, &body)?;
    let user = target_user(&state, &caller, body.user_id).await?;
    let new = NewActivity {
        user_id: user,
        kind: body.kind,
        title: body.title.trim().to_owned(),
        message: body.message,
        metadata: body.metadata.unwrap_or_else(|| serde_json::json!({})),
        link: body.link,
        created_at: body
            .created_at
            .map_or_else(hub_core::time::now, |t| t.trunc_subsecs(3)),
    };
    match state.store.append_activity(new, idempotency).await? {
        AppendOutcome::Created(activity) => Ok(HttpResponse::Created().json(activity)),
        AppendOutcome::Replayed(activity) => Ok(HttpResponse::Created()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(activity)),
        AppendOutcome::KeyReused => Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "This Idempotency-Key was used with a different request body.",
        )),
    }
}

/// Import up to 1,000 activities of one user at once (service keys only).
///
/// All are stored in one atomic step, in the order given, or none is (any
/// invalid item fails the whole request with 422 naming it, such as
/// `activities[3].title`). Each is then pushed, counted and delivered exactly
/// like a single create. `created_at` back-dates an item. `Idempotency-Key`
/// is not supported here (422): an import retried after an unknown outcome
/// should check what the user's activity list holds.
#[utoipa::path(
    post, path = "/api/activities/bulk", tag = "activities",
    request_body = BulkCreate,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "All stored", body = BulkCreated),
        (status = 403, description = "Not a service key", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown user_id", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields, or 0 or more than 1,000 activities", body = crate::error::ErrorBody),
    )
)]
#[post("/activities/bulk")]
pub async fn bulk_create(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    Json(body): Json<BulkCreate>,
) -> ApiResult<HttpResponse> {
    if !caller.is_service() {
        return Err(ApiError::new(
            ErrorCode::ServiceKeyRequired,
            "Only service keys may import activities in bulk.",
        ));
    }
    if req.headers().contains_key("idempotency-key") {
        return Err(ApiError::field(
            "Idempotency-Key",
            "is not supported on bulk imports",
        ));
    }
    if body.activities.is_empty() || body.activities.len() > MAX_BULK_ACTIVITIES {
        return Err(ApiError::field(
            "activities",
            format!("must hold 1 to {MAX_BULK_ACTIVITIES} activities"),
        ));
    }
    let fields: Vec<FieldError> = body
        .activities
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            validate_fields(
                &format!("activities[{i}]."),
                &a.title,
                a.message.as_deref(),
                a.metadata.as_ref(),
                a.link.as_deref(),
                a.created_at,
            )
        })
        .collect();
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    let user = target_user(&state, &caller, Some(body.user_id)).await?;
    let now = hub_core::time::now();
    let new: Vec<NewActivity> = body
        .activities
        .into_iter()
        .map(|a| NewActivity {
            user_id: user.clone(),
            kind: a.kind,
            title: a.title.trim().to_owned(),
            message: a.message,
            metadata: a.metadata.unwrap_or_else(|| serde_json::json!({})),
            link: a.link,
            created_at: a.created_at.map_or(now, |t| t.trunc_subsecs(3)),
        })
        .collect();
    let stored = state.store.append_activities(new).await?;
    Ok(HttpResponse::Created().json(BulkCreated {
        created: stored.len(),
        ids: stored.into_iter().map(|a| a.id.0).collect(),
    }))
}

fn idempotency_key(req: &HttpRequest, body: &CreateActivity) -> ApiResult<Option<IdempotencyKey>> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_LEN)
        .ok_or_else(|| {
            ApiError::field(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"),
            )
        })?;
    // The parsed body, re-serialised: the same request with other whitespace
    // is the same request.
    let canonical = serde_json::to_vec(body).map_err(ApiError::internal)?;
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        fingerprint: hex::encode(Sha256::digest(&canonical)),
    }))
}

/// List activities, newest first.
#[utoipa::path(
    get, path = "/api/activities", tag = "activities",
    params(ListActivities),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses((status = 200, description = "One page", body = ActivityPage))
)]
#[get("/activities")]
pub async fn list_activities(
    state: web::Data<AppState>,
    caller: Caller,
    Query(q): Query<ListActivities>,
) -> ApiResult<HttpResponse> {
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            ActivityType::parse(k)
                .ok_or_else(|| ApiError::field("type", format!("{k:?} is not an activity type")))
        })
        .transpose()?;
    let query = ActivityQuery {
        kind,
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
        before: match q.cursor {
            Some(c) => Some(
                ActivityId(c)
                    .seq()
                    .map(ActivityId::from_seq)
                    .ok_or_else(|| ApiError::field("cursor", "is not a cursor of this list"))?,
            ),
            None => None,
        },
        limit: page_limit(q.limit)?,
    };
    let user = target_user(&state, &caller, q.user_id).await?;
    let page = state.store.list_activities(&user, query).await?;
    Ok(HttpResponse::Ok().json(ActivityPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One activity.
#[utoipa::path(
    get, path = "/api/activities/{id}", tag = "activities",
    params(("id" = String, Path, description = "Activity id")),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The activity", body = Activity),
        (status = 404, description = "No such activity of yours", body = crate::error::ErrorBody),
    )
)]
#[get("/activities/{id}")]
pub async fn get_activity(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = ActivityId(id.into_inner());
    match state.store.activity(&id).await? {
        Some(a) if can_see(&caller, &a.user_id) => Ok(HttpResponse::Ok().json(a)),
        _ => Err(ApiError::new(
            ErrorCode::ActivityNotFound,
            "No such activity.",
        )),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    pub message: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

/// Send a `broadcast` frame to every connected session (service keys only; not stored).
#[utoipa::path(
    post, path = "/api/broadcast", tag = "activities",
    request_body = BroadcastRequest,
    security(("api_key" = [])),
    responses(
        (status = 202, description = "Handed to every node"),
        (status = 403, description = "Not a service key", body = crate::error::ErrorBody),
    )
)]
#[post("/broadcast")]
pub async fn broadcast(
    state: web::Data<AppState>,
    caller: Caller,
    Json(body): Json<BroadcastRequest>,
) -> ApiResult<HttpResponse> {
    if !caller.is_service() {
        return Err(ApiError::new(
            ErrorCode::ServiceKeyRequired,
            "Only service keys may broadcast.",
        ));
    }
    let title = body.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::field(
            "title",
            format!("must be 1 to {MAX_TITLE_CHARS} characters"),
        ));
    }
    if body.data.as_ref().is_some_and(|d| !d.is_object()) {
        return Err(ApiError::field("data", "must be a JSON object"));
    }
    let data = serde_json::json!({
        "title": title,
        "message": body.message,
        "data": body.data.unwrap_or_else(|| serde_json::json!({})),
        "sent_at": hub_core::frames::rfc3339(Utc::now()),
    });
    state.bus.broadcast(&data);
    Ok(HttpResponse::Accepted().json(serde_json::json!({"status": "accepted"})))
}
