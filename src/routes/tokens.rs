//! Personal access tokens: a user's own credentials for scripts and
//! integrations (a CLI, Zapier). The secret is shown once, at creation; the
//! hub keeps only its SHA-256. A token acts as its user within its scopes
//! (`read`, `write`, `webhooks`), on REST and on the WebSocket, and stops
//! working the moment it is revoked, on every node: each use is checked
//! against a small per-node cache of the store's records, from which a
//! revocation removes the token on every node, and sessions opened with it
//! close (4001).

use actix_web::{delete, get, post, web, HttpResponse};
use base64::Engine;
use chrono::Duration;
use hub_core::store::{PersonalToken, PersonalTokenRecord, TokenScope};
use hub_core::TokenId;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{token_hash, UserCaller, PAT_PREFIX};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::extract::Json;
use crate::state::AppState;

/// Tokens one user may hold.
pub const MAX_TOKENS_PER_USER: usize = 100;
/// The longest lifetime a token can be given.
const MAX_DAYS: u32 = 3650;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, to recognise it in the list.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// At least one of `read`, `write`, `webhooks`.
    #[schema(min_items = 1)]
    pub scopes: Vec<TokenScope>,
    /// Days until it stops working (1–3650); without it, it works until revoked.
    #[serde(default, deserialize_with = "crate::extract::whole_number::optional")]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: PersonalToken,
    /// `hub_pat_` + 32 random bytes (base64url): shown this once, never again.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<PersonalToken>,
}

fn check(body: &CreateToken) -> Result<Vec<TokenScope>, ApiError> {
    let mut fields = Vec::new();
    let name = body.name.trim();
    if name.is_empty() {
        fields.push(FieldError {
            field: "name".into(),
            message: "must not be empty".into(),
        });
    } else if name.chars().count() > 100 {
        fields.push(FieldError {
            field: "name".into(),
            message: "must be at most 100 characters".into(),
        });
    }
    let mut scopes = body.scopes.clone();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        fields.push(FieldError {
            field: "scopes".into(),
            message: "must name at least one of read, write, webhooks".into(),
        });
    }
    if body
        .expires_in_days
        .is_some_and(|d| !(1..=MAX_DAYS).contains(&d))
    {
        fields.push(FieldError {
            field: "expires_in_days".into(),
            message: format!("must be between 1 and {MAX_DAYS}"),
        });
    }
    if fields.is_empty() {
        Ok(scopes)
    } else {
        Err(ApiError::validation(fields))
    }
}

/// Create a personal access token. The response is the only one that shows
/// its secret.
#[utoipa::path(
    post, path = "/api/auth/tokens", tag = "auth",
    request_body = CreateToken,
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 201, description = "Created, with its secret (shown once)", body = CreatedToken),
        (status = 409, description = "The user has the maximum number of tokens", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: UserCaller,
    Json(body): Json<CreateToken>,
) -> ApiResult<HttpResponse> {
    let scopes = check(&body)?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!(
        "{PAT_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let now = hub_core::time::now();
    let token = PersonalToken {
        id: TokenId::generate(),
        name: body.name.trim().to_owned(),
        scopes,
        created_at: now,
        expires_at: body
            .expires_in_days
            .map(|days| now + Duration::days(i64::from(days))),
        last_used_at: None,
    };
    state
        .store
        .create_personal_token(
            PersonalTokenRecord {
                token: token.clone(),
                user_id: caller.0,
                token_hash: token_hash(&secret),
            },
            MAX_TOKENS_PER_USER,
        )
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken { token, secret }))
}

/// The caller's personal access tokens, oldest first (never their secrets).
#[utoipa::path(
    get, path = "/api/auth/tokens", tag = "auth",
    security(("bearer" = []), ("oauth2" = [])),
    responses((status = 200, description = "The tokens", body = TokenList))
)]
#[get("/auth/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: UserCaller,
) -> ApiResult<HttpResponse> {
    let items = state.store.list_personal_tokens(&caller.0).await?;
    Ok(HttpResponse::Ok().json(TokenList { items }))
}

/// Revoke a personal access token: it stops working at once, on every node.
#[utoipa::path(
    delete, path = "/api/auth/tokens/{id}", tag = "auth",
    params(("id" = String, Path, description = "Token id")),
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such token of yours", body = crate::error::ErrorBody),
    )
)]
#[delete("/auth/tokens/{id}")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = TokenId(id.into_inner());
    if state.store.revoke_personal_token(&caller.0, &id).await? {
        // This node at once; the others (and every session opened with the
        // token) through the bus.
        state.auth.personal_tokens.forget(&id);
        state.bus.token_revoked(&caller.0, &id).await;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(
            ErrorCode::TokenNotFound,
            "No such personal access token of yours.",
        ))
    }
}
