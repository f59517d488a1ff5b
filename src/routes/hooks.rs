//! REST hooks, the subscription API Zapier's triggers use: subscribe a
//! target URL to one event type, unsubscribe it, and fetch sample events for
//! the trigger's setup. A subscription is a webhook like any other (standard
//! format, signed, retried, listed and managed in the API and the portal).
//! Called with a personal access token with the `webhooks` scope (or a
//! signed-in user's access token).

use actix_web::{delete, get, post, web, HttpResponse};
use hub_core::model::{Activity, ActivityType};
use hub_core::presence::{PresenceChange, PresenceStatus};
use hub_core::store::ActivityQuery;
use hub_core::webhook;
use hub_core::webhook::EventType;
use hub_core::{ActivityId, WebhookId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::UserCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::routes::webhooks::{check_new, create_checked, delete_owned};
use crate::state::AppState;

/// Samples returned when the user has activities of the type.
const SAMPLES: usize = 3;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    /// Where the events go (the URL Zapier gives as `targetUrl`).
    #[schema(example = "https://hooks.zapier.com/hooks/standard/1/abc/")]
    pub target_url: String,
    /// The one event type this subscription delivers: an activity type, or
    /// `presence.online` / `presence.offline`.
    #[schema(value_type = EventType)]
    pub event: String,
}

#[derive(Serialize, ToSchema)]
pub struct Subscription {
    /// The webhook's id: keep it to unsubscribe.
    #[schema(value_type = String, example = "wh_0193c1d2e3f4")]
    pub id: WebhookId,
    pub target_url: String,
    #[schema(value_type = EventType)]
    pub event: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SampleQuery {
    /// The event type of the trigger.
    #[param(value_type = EventType)]
    pub event: String,
}

fn event_type(name: &str) -> ApiResult<EventType> {
    EventType::parse(name.trim()).ok_or_else(|| {
        ApiError::field(
            "event",
            format!("{name:?} is not an event type (an activity type or presence.online / presence.offline)"),
        )
    })
}

/// Subscribe a URL to one event type: a new standard-format webhook.
#[utoipa::path(
    post, path = "/api/hooks", tag = "webhooks",
    request_body = Subscribe,
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 201, description = "Subscribed", body = Subscription),
        (status = 409, description = "The user has the maximum number of webhooks", body = crate::error::ErrorBody),
    )
)]
#[post("/hooks")]
pub async fn subscribe(
    state: web::Data<AppState>,
    caller: UserCaller,
    Json(body): Json<Subscribe>,
) -> ApiResult<HttpResponse> {
    let kind = event_type(&body.event)?;
    let (url, events, description) = check_new(
        &state,
        &body.target_url,
        &[kind.as_str().to_owned()],
        Some(format!("REST hook: {}", kind.as_str())),
    )
    .await
    .map_err(|mut e| {
        // The subscription's field is `target_url`, not `url`.
        for field in &mut e.fields {
            if field.field == "url" {
                field.field = "target_url".into();
            }
        }
        if let Some(rest) = e.message.strip_prefix("url: ") {
            e.message = format!("target_url: {rest}").into();
        }
        e
    })?;
    let created = create_checked(
        &state,
        caller.0,
        url,
        events,
        description,
        webhook::WebhookFormat::Standard,
    )
    .await?;
    Ok(HttpResponse::Created().json(Subscription {
        id: created.webhook.id,
        target_url: created.webhook.url,
        event: kind.as_str().to_owned(),
    }))
}

/// Unsubscribe: deletes the webhook.
#[utoipa::path(
    delete, path = "/api/hooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's (webhook's) id")),
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 204, description = "Unsubscribed"),
        (status = 404, description = "No such subscription of yours", body = crate::error::ErrorBody),
    )
)]
#[delete("/hooks/{id}")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    delete_owned(&state, &caller.0, WebhookId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sample events for a trigger's setup, newest first, each exactly as a
/// delivery's body carries it: the user's latest activities of the type, or
/// one typical example (id `0`) when there are none yet.
#[utoipa::path(
    get, path = "/api/hooks/sample", tag = "webhooks",
    params(SampleQuery),
    security(("bearer" = []), ("oauth2" = [])),
    responses((status = 200, description = "A list of sample events", body = Vec<Object>))
)]
#[get("/hooks/sample")]
pub async fn sample(
    state: web::Data<AppState>,
    caller: UserCaller,
    Query(q): Query<SampleQuery>,
) -> ApiResult<HttpResponse> {
    let event = event_type(&q.event)?;
    let Some(kind) = event.activity() else {
        // Presence is never stored: one typical change.
        let status = if event == EventType::PresenceOnline {
            PresenceStatus::Online
        } else {
            PresenceStatus::Offline
        };
        let now = hub_core::time::now();
        let change = PresenceChange {
            user_id: caller.0.clone(),
            status,
            at: now,
        };
        let body: serde_json::Value =
            serde_json::from_str(&change.envelope(now)).unwrap_or_default();
        return Ok(HttpResponse::Ok().json(vec![body]));
    };
    let page = state
        .store
        .list_activities(
            &caller.0,
            ActivityQuery {
                kind: Some(kind),
                since: None,
                until: None,
                before: None,
                limit: SAMPLES,
            },
        )
        .await?;
    let activities = if page.items.is_empty() {
        vec![example(kind, &caller.0)]
    } else {
        page.items
    };
    let bodies: Vec<serde_json::Value> = activities
        .iter()
        .map(|a| {
            let body = webhook::envelope(a.kind.as_str(), a.created_at, a);
            serde_json::from_str(&body).unwrap_or_default()
        })
        .collect();
    Ok(HttpResponse::Ok().json(bodies))
}

fn example(kind: ActivityType, user: &hub_core::UserId) -> Activity {
    let (title, message) = match kind {
        ActivityType::ProspectAdded => ("Prospect added: Ada Lovelace", "Analytical Engines Ltd"),
        ActivityType::ResearchCompleted => ("Research completed: Acme Corp", "12 insights found"),
        ActivityType::OutreachSent => ("Email sent to Grace Hopper", "Intro: AI Clone"),
        ActivityType::MeetingBooked => ("Meeting booked with Alan Turing", "Tuesday 10:00"),
        ActivityType::ContentPublished => ("Post published: 5 outreach tips", "LinkedIn"),
        ActivityType::TaskCompleted => ("Task completed: weekly research", "research"),
        ActivityType::AutomationTriggered => {
            ("Automation ran: follow-up sequence", "3 emails queued")
        }
        ActivityType::Notification => ("Your weekly summary is ready", "Open the dashboard"),
    };
    Activity {
        id: ActivityId::from_seq(0),
        user_id: user.clone(),
        kind,
        title: title.into(),
        message: Some(message.into()),
        metadata: serde_json::json!({"sample": true}),
        link: None,
        created_at: hub_core::time::now(),
    }
}
