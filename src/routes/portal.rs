//! `/api/portal`: one-time links to an embeddable webhook portal.
//!
//! The AI Clone app (a service key) asks for a link for one of its users and
//! puts it in an iframe or opens it. The link carries a one-time token in its
//! fragment (`/portal#token=…`, so it never reaches a server log or a
//! `Referer`); the portal page exchanges it, once, for a portal session
//! token. That token acts as the user on their webhooks only (every other
//! route answers 403), can be read-only, and stops working when the link's
//! lifetime ends: there is no refresh.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use hub_core::store::PortalGrant;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Json;
use crate::routes::activities::target_user;
use crate::state::AppState;

/// Prefix of portal link tokens; makes them recognisable in secret scanners.
pub const PORTAL_TOKEN_PREFIX: &str = "hub_portal_";
/// A link's lifetime when the caller names none: one hour.
pub const DEFAULT_TTL_SECONDS: u32 = 3_600;
/// Shortest and longest lifetime a caller may ask for.
pub const MIN_TTL_SECONDS: u32 = 1;
pub const MAX_TTL_SECONDS: u32 = 86_400;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortalSession {
    /// Whose webhooks the portal manages.
    #[schema(min_length = 1)]
    pub user_id: String,
    /// How long the link, and the session it opens, last. Default 3600.
    #[schema(minimum = 1, maximum = 86400)]
    #[serde(default, deserialize_with = "crate::extract::whole_number::optional")]
    pub ttl_seconds: Option<u32>,
    /// The portal may list and view endpoints and deliveries, but change
    /// nothing and read no secret. Default false.
    pub read_only: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct PortalLink {
    /// `…/portal#token=hub_portal_…`: works once.
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "hub_core::time")]
    pub expires_at: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangePortalToken {
    /// The token from the link's fragment.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct PortalSession {
    /// A bearer token for `/api/webhooks/**` and the WebSocket (which then
    /// carries `webhook_delivery` frames only).
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the session ends.
    pub expires_in: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "hub_core::time")]
    pub expires_at: DateTime<Utc>,
    pub user_id: String,
    pub read_only: bool,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Where the link points: `server.public_url`, else the address this
/// request came to.
fn base_url(state: &AppState, req: &HttpRequest) -> String {
    match &state.settings.server.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// Create a one-time portal link for a user (service keys only).
#[utoipa::path(
    post, path = "/api/portal/sessions", tag = "webhooks",
    request_body = CreatePortalSession,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The link", body = PortalLink),
        (status = 401, description = "No or bad credentials", body = crate::error::ErrorBody),
        (status = 403, description = "Not a service key", body = crate::error::ErrorBody),
        (status = 404, description = "No such user (`user_not_found`)", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid body", body = crate::error::ErrorBody),
    )
)]
#[post("/portal/sessions")]
pub async fn create_session(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    Json(body): Json<CreatePortalSession>,
) -> ApiResult<HttpResponse> {
    if !caller.is_service() {
        return Err(ApiError::new(
            ErrorCode::ServiceKeyRequired,
            "Only service keys may create portal links.",
        ));
    }
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ApiError::field(
            "ttl_seconds",
            format!("must be {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}"),
        ));
    }
    let user = target_user(&state, &caller, Some(body.user_id)).await?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!(
        "{PORTAL_TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    // Whole seconds: the session token's `exp` is in seconds too.
    let expires_at = DateTime::from_timestamp(Utc::now().timestamp() + i64::from(ttl), 0)
        .unwrap_or_else(Utc::now);
    state
        .store
        .create_portal_grant(PortalGrant {
            token_hash: token_hash(&token),
            user_id: user,
            read_only: body.read_only.unwrap_or(false),
            expires_at,
        })
        .await?;
    let url = format!("{}/portal#token={token}", base_url(&state, &req));
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PortalLink { url, expires_at }))
}

/// Exchange a portal link's one-time token for a portal session.
#[utoipa::path(
    post, path = "/api/portal/exchange", tag = "webhooks",
    request_body = ExchangePortalToken,
    security(()),
    responses(
        (status = 200, description = "The session", body = PortalSession),
        (status = 401, description = "Unknown, used or expired link (`invalid_portal_token`)", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid body", body = crate::error::ErrorBody),
    )
)]
#[post("/portal/exchange")]
pub async fn exchange(
    state: web::Data<AppState>,
    Json(body): Json<ExchangePortalToken>,
) -> ApiResult<HttpResponse> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidPortalToken,
            "This portal link is not valid: it was already used, has expired, or was never issued.",
        )
    };
    if !body.token.starts_with(PORTAL_TOKEN_PREFIX) {
        return Err(invalid());
    }
    let now = Utc::now();
    let grant = state
        .store
        .redeem_portal_grant(&token_hash(&body.token), now)
        .await?
        .ok_or_else(invalid)?;
    let minted = state.auth.tokens.portal(
        &grant.user_id,
        grant.read_only,
        grant.expires_at.timestamp(),
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PortalSession {
            access_token: minted.token,
            token_type: "bearer",
            expires_in: (grant.expires_at - now).num_seconds().max(0),
            expires_at: grant.expires_at,
            user_id: grant.user_id.0,
            read_only: grant.read_only,
        }))
}
