//! The one wire error type of the HTTP API and the one place that maps it to a
//! status code.
//!
//! Every error body is `{"code", "message"}` plus `"fields"` on validation
//! errors. Server-side failures are logged with their cause and answered with
//! a bare message: a 5xx never carries SQL, Redis or stack text.

use std::borrow::Cow;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use hub_core::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// What kind of failure, which decides the status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Malformed,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Validation,
    RateLimited,
    Unavailable,
    Internal,
}

/// One invalid field of a request.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, such as `email` or `metadata.owner`.
    pub field: String,
    pub message: String,
}

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub fields: Vec<FieldError>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

/// The JSON body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    /// Stable snake_case code, for programs.
    pub code: &'a str,
    /// Human sentence, for people.
    pub message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub fields: &'a [FieldError],
}

impl ApiError {
    pub fn new(
        kind: ErrorKind,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    pub fn malformed(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Malformed, code, message)
    }

    pub fn unauthenticated(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    /// 422 with one or more invalid fields.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", fields.len()),
        };
        Self {
            fields,
            ..Self::new(ErrorKind::Validation, "validation_failed", message)
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn unavailable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, code, message)
    }

    /// A failure of ours. The cause is logged here, with the caller's location,
    /// and never sent.
    #[track_caller]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let location = std::panic::Location::caller();
        tracing::error!(cause = %cause, at = %location, "internal error");
        Self::new(
            ErrorKind::Internal,
            "internal_error",
            "The server failed to handle the request; it has been logged.",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.kind {
            ErrorKind::Malformed => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if self.kind == ErrorKind::Unauthenticated {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.json(ErrorBody {
            code: &self.code,
            message: &self.message,
            fields: &self.fields,
        })
    }
}

impl From<StoreError> for ApiError {
    #[track_caller]
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict("email_taken") => {
                ApiError::conflict("email_taken", "An account with this e-mail already exists.")
            }
            StoreError::Conflict(code) => ApiError::conflict(
                code,
                "The resource changed concurrently; retry the request.",
            ),
            StoreError::Unavailable(cause) => {
                tracing::error!(cause = %cause, "store unavailable");
                ApiError::unavailable(
                    "store_unavailable",
                    "The data store is unavailable; the request did nothing. Retry later.",
                )
            }
            StoreError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = ApiError::from(StoreError::Internal("SELECT * FROM secrets failed".into()));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = err.error_response().into_body().try_into_bytes().unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("SELECT"), "{text}");
        assert!(text.contains("internal_error"));
    }

    #[test]
    fn unauthenticated_carries_www_authenticate() {
        let res = ApiError::unauthenticated("x", "y").error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
    }
}
