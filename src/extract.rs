//! Request body and query extractors with the API's error rules: wrong
//! content type 415, body over the limit 413, broken JSON 400, JSON of the
//! wrong shape (unknown field, wrong type, missing field) 422 naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, FieldError};

/// Default body limit when no [`BodyLimit`] is registered (256 KiB).
const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// The configured body limit, registered as app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// What a request body claims to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyType {
    Json,
    Form,
    Other,
}

pub fn body_type(req: &HttpRequest) -> BodyType {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return BodyType::Other;
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        BodyType::Json
    } else if essence == "application/x-www-form-urlencoded" {
        BodyType::Form
    } else {
        BodyType::Other
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than the limit of {limit} bytes."),
    )
}

/// Reads the whole body, refusing it as soon as it passes the limit.
pub async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<bytes::Bytes, ApiError> {
    let limit = req
        .app_data::<BodyLimit>()
        .map(|l| l.0)
        .unwrap_or(DEFAULT_BODY_LIMIT);
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_large(limit));
        }
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                ErrorCode::MalformedBody,
                format!("Could not read the body: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Deserializes JSON, telling syntax errors (400) from shape errors (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => match de.end() {
            Ok(()) => Ok(value),
            Err(e) => Err(ApiError::new(
                ErrorCode::MalformedJson,
                format!("The body is not valid JSON: {e}"),
            )),
        },
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let field = if path == "." { "body".to_owned() } else { path };
                    Err(ApiError::validation(vec![FieldError {
                        field,
                        message: strip_position(&inner.to_string()),
                    }]))
                }
                _ => Err(ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("The body is not valid JSON: {inner}"),
                )),
            }
        }
    }
}

/// serde_json appends " at line L column C" to data errors; the field path
/// says more than the position for those.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A JSON body with the API's error rules.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if body_type(&req) != BodyType::Json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "The body must be JSON (Content-Type: application/json).",
                ));
            }
            let bytes = read_body(&req, &mut payload).await?;
            parse_json(&bytes).map(Json)
        })
    }
}

/// A query string with the API's error rules (422 naming the parameter).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(req.query_string()));
        std::future::ready(
            serde_path_to_error::deserialize(de)
                .map(Query)
                .map_err(|err| {
                    let field = err.path().to_string();
                    ApiError::field(field, err.into_inner().to_string())
                }),
        )
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// Maps actix's own extractor errors (path segments, `web::Query`) into ours.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::field("query", err.to_string()).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _| {
        ApiError::new(ErrorCode::NotFound, format!("No such resource: {err}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: Option<u8>,
    }

    #[test]
    fn json_errors_are_classified() {
        assert!(parse_json::<Body>(br#"{"email":"a"}"#).is_ok());
        let syntax = parse_json::<Body>(br#"{"email":"#).unwrap_err();
        assert_eq!(syntax.status_code().as_u16(), 400);
        let unknown = parse_json::<Body>(br#"{"email":"a","emial":"b"}"#).unwrap_err();
        assert_eq!(unknown.status_code().as_u16(), 422);
        let wrong_type = parse_json::<Body>(br#"{"email":"a","age":"x"}"#).unwrap_err();
        assert_eq!(wrong_type.fields[0].field, "age");
        let trailing = parse_json::<Body>(br#"{"email":"a"} x"#).unwrap_err();
        assert_eq!(trailing.status_code().as_u16(), 400);
    }
}

/// Deserializes an optional whole number the way JSON Schema's `integer`
/// reads one: `13` and `13.0` are the same number, `13.5` and `-1` are not
/// whole non-negative numbers. Use with `#[serde(default, deserialize_with)]`.
pub mod whole_number {
    use serde::de::{Deserialize, Deserializer, Error};

    pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64>,
    {
        let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
            return Ok(None);
        };
        let whole = match (number.as_u64(), number.as_f64()) {
            (Some(n), _) => n,
            (None, Some(f)) if f.fract() == 0.0 && f >= 0.0 && f <= u64::MAX as f64 => f as u64,
            (None, Some(f)) if f < 0.0 => {
                return Err(D::Error::custom(format!(
                    "must not be negative (got {number})"
                )))
            }
            _ => {
                return Err(D::Error::custom(format!(
                    "must be a whole number (got {number})"
                )))
            }
        };
        T::try_from(whole)
            .map(Some)
            .map_err(|_| D::Error::custom(format!("{number} is out of range")))
    }

    #[cfg(test)]
    mod tests {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[serde(default, deserialize_with = "super::optional")]
            n: Option<u8>,
        }

        fn parse(json: &str) -> Result<Option<u8>, String> {
            serde_json::from_str::<Body>(json)
                .map(|b| b.n)
                .map_err(|e| e.to_string())
        }

        #[test]
        fn integers_and_whole_floats_are_the_same_number() {
            assert_eq!(parse(r#"{"n": 13}"#), Ok(Some(13)));
            assert_eq!(parse(r#"{"n": 13.0}"#), Ok(Some(13)));
            assert_eq!(parse(r#"{"n": null}"#), Ok(None));
            assert_eq!(parse(r#"{}"#), Ok(None));
        }

        #[test]
        fn fractions_negatives_and_overflow_are_refused() {
            assert!(parse(r#"{"n": 13.5}"#)
                .unwrap_err()
                .contains("whole number"));
            assert!(parse(r#"{"n": -1}"#).unwrap_err().contains("negative"));
            assert!(parse(r#"{"n": -1.0}"#).unwrap_err().contains("negative"));
            assert!(parse(r#"{"n": 256}"#).unwrap_err().contains("out of range"));
            assert!(parse(r#"{"n": "3"}"#).is_err());
        }
    }
}
