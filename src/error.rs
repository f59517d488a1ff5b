//! The one wire error type of the HTTP API and the one table that maps its
//! codes to status codes.
//!
//! Every error body is `{"code", "message"}` plus `"fields"` on validation
//! errors. `code` is one of the closed list [`ErrorCode`]: a handler cannot
//! invent a code, and a typo fails to compile. Server-side failures keep
//! their cause for the log and are answered with a bare message: a 5xx never
//! carries SQL, Redis or stack text.

use std::borrow::Cow;
use std::panic::Location;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use hub_core::store::Conflict;
use hub_core::StoreError;
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// Declares [`ErrorCode`] from one table: variant, status, wire name, and
/// what it means (the doc comment of the variant and of the OpenAPI enum).
macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = ($status:ident, $name:literal), )+) => {
        /// Every error code the HTTP API answers, each with its one status.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The status every response with this code carries.
            pub fn status(self) -> StatusCode {
                match self {
                    $( ErrorCode::$variant => StatusCode::$status, )+
                }
            }

            /// The snake_case name on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $name, )+
                }
            }

            /// What the code means, for the OpenAPI document.
            pub fn meaning(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => concat!($($doc),*).trim_ascii(), )+
                }
            }
        }
    };
}

error_codes! {
    /// The body is not valid JSON.
    MalformedJson = (BAD_REQUEST, "malformed_json"),
    /// The body could not be read, or is not a valid form.
    MalformedBody = (BAD_REQUEST, "malformed_body"),
    /// The request to `/api/ws` is not a WebSocket upgrade.
    WebsocketHandshakeFailed = (BAD_REQUEST, "websocket_handshake_failed"),
    /// No credential, or one that is not valid.
    Unauthenticated = (UNAUTHORIZED, "unauthenticated"),
    /// The access token has expired; refresh it.
    TokenExpired = (UNAUTHORIZED, "token_expired"),
    /// A user token and a service key were both sent: send one.
    AmbiguousCredentials = (UNAUTHORIZED, "ambiguous_credentials"),
    /// Wrong e-mail or password.
    InvalidCredentials = (UNAUTHORIZED, "invalid_credentials"),
    /// The refresh token is not valid, expired or revoked.
    InvalidToken = (UNAUTHORIZED, "invalid_token"),
    /// The portal link was already used, has expired, or was never issued.
    InvalidPortalToken = (UNAUTHORIZED, "invalid_portal_token"),
    /// The refresh token was already used; its whole family is now revoked.
    RefreshTokenReused = (UNAUTHORIZED, "refresh_token_reused"),
    /// A user token named another user.
    Forbidden = (FORBIDDEN, "forbidden"),
    /// A personal access token without the scope this route needs.
    InsufficientScope = (FORBIDDEN, "insufficient_scope"),
    /// A service key acts for a user it names: `user_id` is missing.
    UserIdRequired = (FORBIDDEN, "user_id_required"),
    /// The webhook URL aims at an address webhooks may not reach (loopback,
    /// private, link-local and similar), see `fields`.
    TargetNotAllowed = (FORBIDDEN, "target_not_allowed"),
    /// The route acts on the caller's own account: a service key cannot call it.
    UserTokenRequired = (FORBIDDEN, "user_token_required"),
    /// Only service keys may do this.
    ServiceKeyRequired = (FORBIDDEN, "service_key_required"),
    /// The browser `Origin` may not open WebSockets.
    OriginNotAllowed = (FORBIDDEN, "origin_not_allowed"),
    /// A portal session can only manage its user's webhooks.
    PortalScope = (FORBIDDEN, "portal_scope"),
    /// A read-only portal session can look, not change (nor read a secret).
    PortalReadOnly = (FORBIDDEN, "portal_read_only"),
    /// No such route or resource.
    NotFound = (NOT_FOUND, "not_found"),
    /// No user has this id.
    UserNotFound = (NOT_FOUND, "user_not_found"),
    /// No such activity of the caller's.
    ActivityNotFound = (NOT_FOUND, "activity_not_found"),
    /// No such task of the caller's.
    TaskNotFound = (NOT_FOUND, "task_not_found"),
    /// No such webhook of the caller's.
    WebhookNotFound = (NOT_FOUND, "webhook_not_found"),
    /// No such personal access token of the caller's.
    TokenNotFound = (NOT_FOUND, "token_not_found"),
    /// No such delivery of this webhook.
    DeliveryNotFound = (NOT_FOUND, "delivery_not_found"),
    /// The path exists but not with this method (see `Allow`).
    MethodNotAllowed = (METHOD_NOT_ALLOWED, "method_not_allowed"),
    /// An account with this e-mail exists.
    EmailTaken = (CONFLICT, "email_taken"),
    /// The `Idempotency-Key` was used with another body.
    IdempotencyKeyReused = (CONFLICT, "idempotency_key_reused"),
    /// The task cannot move to this status.
    InvalidTransition = (CONFLICT, "invalid_transition"),
    /// Task progress cannot go down.
    ProgressDecreased = (CONFLICT, "progress_decreased"),
    /// The task kept changing concurrently; retry.
    TaskChanged = (CONFLICT, "task_changed"),
    /// The user has the maximum number of webhooks.
    WebhookLimit = (CONFLICT, "webhook_limit"),
    /// The user has the maximum number of personal access tokens.
    TokenLimit = (CONFLICT, "token_limit"),
    /// The webhook is disabled; enable it first.
    WebhookDisabled = (CONFLICT, "webhook_disabled"),
    /// The body is larger than the limit.
    PayloadTooLarge = (PAYLOAD_TOO_LARGE, "payload_too_large"),
    /// The body is not of a content type this route reads.
    UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    /// One or more fields or parameters are invalid (see `fields`).
    ValidationFailed = (UNPROCESSABLE_ENTITY, "validation_failed"),
    /// Too many requests; retry after `Retry-After` seconds.
    RateLimited = (TOO_MANY_REQUESTS, "rate_limited"),
    /// The server failed; the cause is logged, never sent.
    InternalError = (INTERNAL_SERVER_ERROR, "internal_error"),
    /// The data store is unavailable; the request did nothing.
    StoreUnavailable = (SERVICE_UNAVAILABLE, "store_unavailable"),
    /// The change was stored, but not yet confirmed by enough replicas of
    /// the store; it could be lost if the store fails over now.
    WriteUnconfirmed = (SERVICE_UNAVAILABLE, "write_unconfirmed"),
    /// The store does not answer the readiness check.
    NotReady = (SERVICE_UNAVAILABLE, "not_ready"),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let list = ErrorCode::ALL
            .iter()
            .map(|c| format!("- `{c}` ({}): {}", c.status().as_u16(), c.meaning()))
            .collect::<Vec<_>>()
            .join("\n");
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some(format!(
                "Stable snake_case code, for programs. Each code has one status:\n\n{list}"
            )))
            .into()
    }
}

impl ToSchema for ErrorCode {}

/// One invalid field of a request.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, such as `email` or `metadata.owner`.
    pub field: String,
    pub message: String,
}

/// What a failure was caused by, kept for the log only.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error as the API answers it.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    pub fields: Vec<FieldError>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
    /// Why a 5xx happened: logged with [`ApiError::at`], never sent.
    #[source]
    pub cause: Option<Cause>,
    /// Where the 5xx was raised, for the log.
    pub at: Option<&'static Location<'static>>,
}

/// The JSON body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    pub code: ErrorCode,
    /// Human sentence, for people.
    pub message: &'a str,
    /// The invalid fields or parameters (`validation_failed` and `target_not_allowed`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub fields: &'a [FieldError],
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
            cause: None,
            at: None,
        }
    }

    /// 422 with one or more invalid fields.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", fields.len()),
        };
        Self {
            fields,
            ..Self::new(ErrorCode::ValidationFailed, message)
        }
    }

    /// 403: a well-formed webhook URL that aims at an address webhooks may
    /// not reach; `fields` says which and why, as for a 422.
    pub fn refused_target(fields: Vec<FieldError>) -> Self {
        Self {
            code: ErrorCode::TargetNotAllowed,
            ..Self::validation(fields)
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A failure of ours. The cause and the caller's location are logged
    /// when the response is written, and never sent.
    #[track_caller]
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self {
            cause: Some(cause.into()),
            at: Some(Location::caller()),
            ..Self::new(
                ErrorCode::InternalError,
                "The server failed to handle the request; it has been logged.",
            )
        }
    }

    /// The store is down: the request did nothing.
    #[track_caller]
    pub fn store_unavailable(cause: impl Into<Cause>) -> Self {
        Self {
            cause: Some(cause.into()),
            at: Some(Location::caller()),
            ..Self::new(
                ErrorCode::StoreUnavailable,
                "The data store is unavailable; the request did nothing. Retry later.",
            )
        }
    }

    /// The cause chain, outermost first, as one line for the log.
    fn cause_chain(&self) -> String {
        let mut chain = String::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(self);
        while let Some(err) = next {
            if !chain.is_empty() {
                chain.push_str(": ");
            }
            chain.push_str(&err.to_string());
            next = err.source();
        }
        chain
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            let at = self.at.map(ToString::to_string).unwrap_or_default();
            tracing::error!(code = %self.code, cause = %self.cause_chain(), at = %at, "request failed");
        }
        let mut res = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.json(ErrorBody {
            code: self.code,
            message: &self.message,
            fields: &self.fields,
        })
    }
}

impl From<StoreError> for ApiError {
    #[track_caller]
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(Conflict::EmailTaken) => ApiError::new(
                ErrorCode::EmailTaken,
                "An account with this e-mail already exists.",
            ),
            StoreError::Conflict(Conflict::TaskChanged) => ApiError::new(
                ErrorCode::TaskChanged,
                "The task is being changed concurrently; retry.",
            ),
            StoreError::Conflict(Conflict::WebhookLimit) => ApiError::new(
                ErrorCode::WebhookLimit,
                "The user has the maximum number of webhooks; delete one first.",
            ),
            StoreError::Conflict(Conflict::TokenLimit) => ApiError::new(
                ErrorCode::TokenLimit,
                "The user has the maximum number of personal access tokens; revoke one first.",
            ),
            err @ StoreError::Unavailable(_) => ApiError::store_unavailable(err),
            err @ StoreError::Unconfirmed(_) => Self {
                cause: Some(err.into()),
                at: Some(Location::caller()),
                ..ApiError::new(
                    ErrorCode::WriteUnconfirmed,
                    "The change was stored but not yet confirmed by enough replicas of the \
                     store, so it could be lost if the store fails over now. Read it back \
                     before retrying; an activity retried with the same Idempotency-Key is \
                     not stored twice.",
                )
            },
            err @ StoreError::Internal(_) => ApiError::internal(err),
        }
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body(err: &ApiError) -> serde_json::Value {
        let bytes = err.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn internal_errors_hide_their_cause_but_keep_it() {
        let err = ApiError::from(StoreError::Internal("SELECT * FROM secrets failed".into()));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body(&err),
            serde_json::json!({
                "code": "internal_error",
                "message": "The server failed to handle the request; it has been logged.",
            })
        );
        assert!(err.cause_chain().contains("SELECT * FROM secrets"));
        assert!(err.at.unwrap().file().ends_with("error.rs"));
    }

    #[test]
    fn unavailable_store_is_503_without_its_cause() {
        let err = ApiError::from(StoreError::Unavailable(
            "Connection refused (os error 111)".into(),
        ));
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let text = body(&err).to_string();
        assert!(!text.contains("refused"), "{text}");
        assert!(err.cause_chain().contains("refused"));
    }

    #[test]
    fn unauthenticated_carries_www_authenticate() {
        let res = ApiError::new(ErrorCode::TokenExpired, "y").error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
    }

    #[test]
    fn codes_are_unique_snake_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
            assert_eq!(serde_json::to_value(code).unwrap(), name);
            assert!(code.status().is_client_error() || code.status().is_server_error());
            assert!(!code.meaning().is_empty(), "{name}");
        }
    }
}
