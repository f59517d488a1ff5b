//! `GET /api/ws` (the upgrade) and `GET /api/ws/status`.
//!
//! Everything is checked before the upgrade: a request without a valid access
//! token gets a plain 401 and no WebSocket; a browser `Origin` that is neither
//! the hub's own nor in `server.allowed_origins` gets 403.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use hub_actors::registry::Counts;
use hub_actors::session::{self, WsSession};
use hub_core::frames::EventFilter;
use hub_core::{ActivityId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Query;
use crate::state::AppState;
use hub_core::store::TokenScope;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// Access token, for browsers that cannot set headers. Never logged.
    pub token: Option<String>,
    /// Resume after this event id.
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub last_event_id: Option<String>,
    /// Comma-separated activity types to receive (default: all).
    pub events: Option<String>,
}

fn origin_allowed(req: &HttpRequest, state: &AppState) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = req.connection_info().host().to_owned();
    let own = [format!("http://{host}"), format!("https://{host}")];
    own.iter().any(|o| o.eq_ignore_ascii_case(origin))
        || state
            .settings
            .server
            .allowed_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Open the live feed (WebSocket). See the protocol in the README.
#[utoipa::path(
    get, path = "/api/ws", tag = "websocket",
    params(WsQuery),
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 101, description = "Switching protocols"),
        (status = 401, description = "No or bad token; no upgrade", body = crate::error::ErrorBody),
        (status = 403, description = "Origin not allowed", body = crate::error::ErrorBody),
    )
)]
#[get("/ws")]
pub async fn connect(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(q): Query<WsQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = header_token.or(q.token.as_deref()) else {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "Send an access token (Authorization: Bearer or ?token=).",
        ));
    };
    // (user, token expiry, portal session?, personal access token)
    let (user, exp, portal, personal_token) = if token.starts_with(crate::auth::PAT_PREFIX) {
        let record = state
            .auth
            .personal_token(&crate::auth::token_hash(token))
            .await?;
        if !record.token.scopes.contains(&TokenScope::Read) {
            return Err(ApiError::new(
                ErrorCode::InsufficientScope,
                "This personal access token lacks the \"read\" scope the live stream needs.",
            ));
        }
        // A token without an expiry is good for a year of one session; the
        // client reconnects with it after that like after any 4001.
        let exp = record
            .token
            .expires_at
            .unwrap_or_else(|| hub_core::time::now() + chrono::Duration::days(365))
            .timestamp();
        (record.user_id, exp, false, Some(record.token.id))
    } else {
        let claims = state.auth.tokens.verify_bearer(token).map_err(|_| {
            ApiError::new(ErrorCode::Unauthenticated, "The access token is not valid.")
        })?;
        let portal = claims.typ == crate::auth::tokens::TYP_PORTAL;
        (UserId(claims.sub), claims.exp, portal, None)
    };
    if !origin_allowed(&req, &state) {
        return Err(ApiError::new(
            ErrorCode::OriginNotAllowed,
            "This Origin may not open WebSockets.",
        ));
    }
    let (filter, _) = EventFilter::parse(q.events.as_deref().unwrap_or("").split(','))
        .map_err(|name| ApiError::field("events", format!("{name:?} is not an activity type")))?;
    let resume = q
        .last_event_id
        .map(|id| {
            let id = ActivityId(id);
            id.seq()
                .map(|_| id)
                .ok_or_else(|| ApiError::field("last_event_id", "is not an event id of this hub"))
        })
        .transpose()?;
    let mut session = WsSession::new(user, exp, filter, resume, state.session_deps.clone());
    // A portal session sees its user's webhook deliveries and nothing else.
    if portal {
        session = session.webhooks_only();
    }
    if let Some(id) = personal_token {
        session = session.opened_with(id);
    }
    session::start(
        session,
        state.settings.websocket.max_frame_size,
        &req,
        payload,
    )
    .map_err(|e| ApiError::new(ErrorCode::WebsocketHandshakeFailed, e.to_string()))
}

#[derive(Serialize, ToSchema)]
pub struct WsStatus {
    pub node_id: String,
    pub node_sessions: usize,
    pub cluster_sessions: usize,
    pub cluster_users_online: usize,
    pub your_sessions: usize,
}

/// Session counts of this node and of the cluster (no user ids).
#[utoipa::path(
    get, path = "/api/ws/status", tag = "websocket",
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses((status = 200, description = "Counts", body = WsStatus))
)]
#[get("/ws/status")]
pub async fn status(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let user = match caller {
        Caller::User(id) => id,
        // A service has no sessions of its own; an id no user has counts 0.
        Caller::Service => UserId(String::new()),
    };
    let counts = state
        .registry
        .send(Counts { user })
        .await
        .map_err(ApiError::internal)?;
    let (cluster_sessions, cluster_users_online) = match &state.cluster {
        Some(view) => {
            let cluster = view.counts().await?;
            (
                counts.node_sessions + cluster.sessions_elsewhere,
                cluster.users_online,
            )
        }
        // Embedded mode has one node: the cluster is this node.
        None => (counts.node_sessions, counts.users_online),
    };
    Ok(HttpResponse::Ok().json(WsStatus {
        node_id: state.node_id.clone(),
        node_sessions: counts.node_sessions,
        cluster_sessions,
        cluster_users_online,
        // Counted on this node: a user's sessions elsewhere are not listed.
        your_sessions: counts.your_sessions,
    }))
}
