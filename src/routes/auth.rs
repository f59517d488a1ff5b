//! `/api/auth`: register, login (OAuth2 password form or JSON), refresh with
//! rotation, logout, me.

use actix_web::http::header;
use actix_web::{dev::Payload, get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use hub_core::model::User;
use hub_core::store::{NewUser, RefreshTokenRecord, RotateOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::UserCaller;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::extract::{body_type, parse_json, read_body, BodyType, Json};
use crate::state::AppState;

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 1024;
const MAX_EMAIL_LEN: usize = 254;
const MAX_NAME_CHARS: usize = 200;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    #[schema(
        max_length = 254,
        pattern = r"^[!-?A-~]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
    )]
    pub email: String,
    /// 8 to 1024 characters.
    #[schema(example = "correct horse battery staple")]
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    #[schema(max_length = 200)]
    pub full_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserEnvelope {
    pub user: User,
}

/// The OAuth2 password form, as FastAPI's `OAuth2PasswordRequestForm` takes it.
#[derive(Deserialize, ToSchema)]
pub struct LoginForm {
    /// The e-mail address.
    pub username: String,
    pub password: String,
    /// `password` if given.
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginJson {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 1800)]
    pub expires_in: u64,
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Trims and checks an e-mail address; returns it as given (case kept).
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim();
    if email.is_empty() {
        return Err("is required".into());
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!("must be at most {MAX_EMAIL_LEN} characters"));
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("must be an e-mail address".into());
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty()
        || local.contains('@')
        || email.chars().any(char::is_whitespace)
        || !domain_ok
    {
        return Err("must be an e-mail address".into());
    }
    Ok(email.to_owned())
}

fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// Create an account.
#[utoipa::path(
    post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Created", body = UserEnvelope),
        (status = 409, description = "E-mail taken", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let mut fields = Vec::new();
    let email = normalize_email(&body.email)
        .map_err(|m| {
            fields.push(FieldError {
                field: "email".into(),
                message: m,
            })
        })
        .ok();
    if let Err(m) = check_password(&body.password) {
        fields.push(FieldError {
            field: "password".into(),
            message: m,
        });
    }
    let full_name = body
        .full_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if full_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
    {
        fields.push(FieldError {
            field: "full_name".into(),
            message: format!("must be at most {MAX_NAME_CHARS} characters"),
        });
    }
    let (Some(email), true) = (email, fields.is_empty()) else {
        return Err(ApiError::validation(fields));
    };
    let password_hash = state
        .passwords
        .hash(body.password)
        .await
        .map_err(ApiError::internal)?;
    let user = state
        .store
        .create_user(NewUser {
            email,
            full_name,
            password_hash,
            created_at: hub_core::time::now(),
        })
        .await?;
    tracing::info!(user_id = %user.id, "user registered");
    Ok(HttpResponse::Created().json(UserEnvelope { user }))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "Incorrect e-mail or password.",
    )
}

/// Log in: the OAuth2 password form (`username` = e-mail) or JSON `{email, password}`.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth",
    request_body(
        content(
            (LoginForm = "application/x-www-form-urlencoded"),
            (LoginJson = "application/json")
        )
    ),
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong e-mail or password", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let mut payload: Payload = payload.into_inner();
    let (email, password) = match body_type(&req) {
        BodyType::Form => {
            let bytes = read_body(&req, &mut payload).await?;
            let form: LoginForm = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| ApiError::field("body", e.to_string()))?;
            if form.grant_type.as_deref().is_some_and(|g| g != "password") {
                return Err(ApiError::field("grant_type", "must be \"password\""));
            }
            (form.username, form.password)
        }
        BodyType::Json => {
            let bytes = read_body(&req, &mut payload).await?;
            let body: LoginJson = parse_json(&bytes)?;
            (body.email, body.password)
        }
        BodyType::Other => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Send an OAuth2 password form (application/x-www-form-urlencoded) or JSON.",
            ))
        }
    };
    let record = match normalize_email(&email) {
        Ok(email) => state.store.user_by_email(&email).await?,
        Err(_) => None,
    };
    let (user, hash) = match record {
        Some(r) => (Some(r.user), Some(r.password_hash)),
        None => (None, None),
    };
    // Verify even without a user, against a dummy hash: same work, same time.
    let ok = state.passwords.verify(password, hash).await;
    let Some(user) = user.filter(|_| ok) else {
        return Err(invalid_credentials());
    };
    let family = uuid::Uuid::new_v4().simple().to_string();
    let pair = issue_pair(&state, &user.id, &family);
    state.store.insert_refresh_token(pair.1).await?;
    tracing::info!(user_id = %user.id, "user logged in");
    Ok(token_response(pair.0))
}

fn issue_pair(
    state: &AppState,
    user: &hub_core::UserId,
    family: &str,
) -> (TokenPair, RefreshTokenRecord) {
    let access = state.auth.tokens.access(user);
    let renewal = state.auth.tokens.refresh(user, family);
    let record = RefreshTokenRecord {
        jti: renewal.claims.jti.clone(),
        family: family.to_owned(),
        user_id: user.clone(),
        expires_at: chrono::DateTime::from_timestamp(renewal.claims.exp, 0).unwrap_or_default(),
    };
    (
        TokenPair {
            access_token: access.token,
            token_type: "bearer",
            expires_in: state.auth.tokens.access_ttl().as_secs(),
            refresh_token: renewal.token,
        },
        record,
    )
}

fn token_response(pair: TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(pair)
}

fn invalid_refresh() -> ApiError {
    ApiError::new(ErrorCode::InvalidToken, "The refresh token is not valid.")
}

/// Trade a refresh token for a new pair. The old refresh token is spent; using
/// it again revokes every token of its family.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New pair", body = TokenPair),
        (status = 401, description = "Invalid, expired, revoked or reused", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let claims = state
        .auth
        .tokens
        .verify_refresh(&body.refresh_token)
        .map_err(|_| invalid_refresh())?;
    let user = hub_core::UserId(claims.sub.clone());
    let family = claims.fam.clone().unwrap_or_default();
    let (pair, record) = issue_pair(&state, &user, &family);
    match state
        .store
        .rotate_refresh_token(&claims.jti, record, Utc::now())
        .await?
    {
        RotateOutcome::Rotated => Ok(token_response(pair)),
        RotateOutcome::ReuseDetected => {
            tracing::warn!(user_id = %user, "refresh token reused; its family is revoked");
            Err(ApiError::new(
                ErrorCode::RefreshTokenReused,
                "This refresh token was already used; every session of this login is revoked.",
            ))
        }
        RotateOutcome::Invalid => Err(invalid_refresh()),
    }
}

/// Revoke the refresh-token family (this login). Access tokens simply expire.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not a valid refresh token", body = crate::error::ErrorBody),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let claims = state
        .auth
        .tokens
        .verify_refresh(&body.refresh_token)
        .map_err(|_| invalid_refresh())?;
    state
        .store
        .revoke_refresh_family(
            &hub_core::UserId(claims.sub.clone()),
            claims.fam.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The logged-in user.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "Not authenticated", body = crate::error::ErrorBody),
    )
)]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, caller: UserCaller) -> ApiResult<HttpResponse> {
    let user =
        state.store.user_by_id(&caller.0).await?.ok_or_else(|| {
            ApiError::new(ErrorCode::UserNotFound, "The account no longer exists.")
        })?;
    Ok(HttpResponse::Ok().json(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(
            normalize_email("  Ada@Example.com ").unwrap(),
            "Ada@Example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@ex..com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_length_counts_characters() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"é".repeat(1024)).is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}
