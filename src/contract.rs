//! The API contract as served: the OpenAPI document completed with every
//! error an operation can answer, and the table of the methods each path
//! supports (a method a path does not support is 405 with `Allow`).
//!
//! The handlers' annotations say what is particular to an operation; the
//! rules every operation shares (credentials, bodies, query strings, rate
//! limits, the store) are applied here, once, so no operation can forget
//! one. Each error status an operation lists names the exact codes it can
//! carry, as an `enum` on `code`: a client generated from the document knows
//! them, and a contract test can check the hub answers no other.
//!
//! The document to complete is handed in (`startup` assembles it from
//! [`crate::openapi::ApiDoc`]): the routes read the finished contract, so
//! this module does not reach back for the routes' annotations.

use std::collections::BTreeMap;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use serde_json::{json, Map, Value};
use utoipa::openapi::OpenApi;

use crate::error::ErrorCode;
use hub_actors::webhooks::ssrf;

/// The error codes particular to each operation (by operation id), on top of
/// the shared rules of [`shared_codes`]. Every operation of the document is
/// listed, so adding a route without thinking about its errors fails a test.
const OPERATION_CODES: &[(&str, &[ErrorCode])] = {
    use ErrorCode::*;
    &[
        ("register", &[EmailTaken]),
        ("login", &[InvalidCredentials]),
        ("refresh", &[InvalidToken, RefreshTokenReused]),
        ("logout", &[InvalidToken]),
        ("me", &[UserTokenRequired, UserNotFound]),
        ("create_token", &[UserTokenRequired, TokenLimit]),
        ("list_tokens", &[UserTokenRequired]),
        ("revoke_token", &[UserTokenRequired, TokenNotFound]),
        (
            "create_activity",
            &[ServiceKeyRequired, IdempotencyKeyReused],
        ),
        ("bulk_create", &[ServiceKeyRequired]),
        ("list_activities", &[]),
        ("get_activity", &[ActivityNotFound]),
        ("broadcast", &[ServiceKeyRequired]),
        ("summary", &[]),
        ("export_get", &[]),
        ("export_post", &[]),
        ("create_task", &[]),
        ("list_tasks", &[]),
        ("get_task", &[TaskNotFound]),
        (
            "update_task",
            &[
                TaskNotFound,
                InvalidTransition,
                ProgressDecreased,
                TaskChanged,
            ],
        ),
        ("create_webhook", &[WebhookLimit, TargetNotAllowed]),
        (
            "subscribe",
            &[UserTokenRequired, WebhookLimit, TargetNotAllowed],
        ),
        ("unsubscribe", &[UserTokenRequired, WebhookNotFound]),
        ("sample", &[UserTokenRequired]),
        ("create_session", &[ServiceKeyRequired, UserNotFound]),
        ("exchange", &[InvalidPortalToken]),
        ("list_webhooks", &[]),
        ("get_webhook", &[WebhookNotFound]),
        ("replace_webhook", &[WebhookNotFound, TargetNotAllowed]),
        ("patch_webhook", &[WebhookNotFound, TargetNotAllowed]),
        ("delete_webhook", &[WebhookNotFound]),
        ("get_secret", &[WebhookNotFound]),
        ("rotate_secret", &[WebhookNotFound]),
        ("enable_webhook", &[WebhookNotFound]),
        ("test_webhook", &[WebhookNotFound]),
        ("list_deliveries", &[WebhookNotFound]),
        (
            "retry_delivery",
            &[WebhookNotFound, DeliveryNotFound, WebhookDisabled],
        ),
        (
            "connect",
            &[
                OriginNotAllowed,
                WebsocketHandshakeFailed,
                ValidationFailed,
                InsufficientScope,
            ],
        ),
        ("status", &[]),
        ("health", &[]),
        ("ready", &[NotReady]),
        ("metrics", &[]),
    ]
};

/// Paths served besides the documented operations: the documentation itself.
const UNDOCUMENTED_GETS: &[&str] = &[
    "/",
    "/portal",
    "/assets/{file}",
    "/api/openapi.json",
    "/api/docs",
    "/api/docs/{file}",
    "/api/redoc",
    "/api/redoc/redoc.standalone.js",
];

/// Operations that read no credential of the `Caller` kind: the WebSocket
/// upgrade checks its access token itself (header or `?token=`).
const OWN_AUTH: &[&str] = &["connect"];

/// The contract, built once at start and shared by every worker.
pub struct Contract {
    /// The completed OpenAPI document, serialised.
    document: bytes::Bytes,
    /// Each path pattern with the methods it answers.
    methods: Vec<(ResourceDef, Vec<Method>)>,
}

impl Contract {
    /// The contract of `api`, the document the handlers' annotations make.
    pub fn new(api: OpenApi) -> Self {
        let document = document(api);
        let mut methods: Vec<(ResourceDef, Vec<Method>)> = Vec::new();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            let allowed = item
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(m, _)| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                .collect();
            methods.push((ResourceDef::new(path.as_str()), allowed));
        }
        for path in UNDOCUMENTED_GETS {
            methods.push((ResourceDef::new(*path), vec![Method::GET]));
        }
        Self {
            document: serde_json::to_vec(&document)
                .expect("a serde_json::Value always serialises")
                .into(),
            methods,
        }
    }

    /// The OpenAPI document as JSON text.
    pub fn document(&self) -> bytes::Bytes {
        self.document.clone()
    }

    /// The methods `path` answers, or `None` for a path the hub does not
    /// serve. A static path (`/api/activities/bulk`) is answered by its own
    /// routes only, not by a pattern that would also match it.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<Method>> {
        let exact = self
            .methods
            .iter()
            .find(|(def, _)| def.pattern() == Some(path));
        if let Some((_, methods)) = exact {
            return Some(methods.clone());
        }
        let mut found: Option<Vec<Method>> = None;
        for (def, methods) in &self.methods {
            if def.is_match(path) {
                let all = found.get_or_insert_with(Vec::new);
                for m in methods {
                    if !all.contains(m) {
                        all.push(m.clone());
                    }
                }
            }
        }
        found
    }
}

/// `api` complete with its errors: the OpenAPI document the hub serves.
pub fn document(api: OpenApi) -> Value {
    let mut doc = serde_json::to_value(api).expect("the OpenAPI document serialises to JSON");
    complete(&mut doc);
    constrain_webhook_urls(&mut doc);
    constrain_export_types(&mut doc);
    doc
}

/// `types` of an export names activity types (for `data=activities`) or
/// metrics (for `data=metrics`): the document gives both sets, and says which
/// goes with which in the parameter's description.
fn constrain_export_types(doc: &mut Value) {
    let mut names: Vec<&str> = hub_core::model::ActivityType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    for metric in crate::analytics::Metric::all().map(|m| m.as_str()) {
        if !names.contains(&metric) {
            names.push(metric);
        }
    }
    let name = format!("(?:{})", names.join("|"));
    let pattern = format!("^ *{name}? *(?:, *{name}? *)*$");
    if let Some(params) = doc["paths"]["/api/analytics/export"]["get"]["parameters"].as_array_mut()
    {
        for param in params.iter_mut().filter(|p| p["name"] == "types") {
            param["schema"]["pattern"] = Value::from(pattern.as_str());
        }
    }
    let items = &mut doc["components"]["schemas"]["ExportBody"]["properties"]["types"]["items"];
    if let Some(items) = items.as_object_mut() {
        items.insert("enum".into(), Value::from(names));
    }
}

/// The webhook URL fields carry the exact accepted form, the one the hub
/// checks (built at run time, so it is written here rather than in an
/// attribute).
fn constrain_webhook_urls(doc: &mut Value) {
    for (name, field) in [
        ("CreateWebhook", "url"),
        ("ReplaceWebhook", "url"),
        ("PatchWebhook", "url"),
        ("Subscribe", "target_url"),
    ] {
        let url = &mut doc["components"]["schemas"][name]["properties"][field];
        if let Some(url) = url.as_object_mut() {
            url.insert("pattern".into(), Value::from(ssrf::URL_PATTERN.as_str()));
            url.insert("maxLength".into(), Value::from(ssrf::MAX_URL_LEN));
        }
    }
}

/// What an operation looks like from the outside, for the shared rules.
struct Facts<'a> {
    path: &'a str,
    /// Lower case, as in the document.
    method: &'a str,
    operation_id: &'a str,
    /// Schemes of the security requirement (`bearer`, `oauth2`, `api_key`).
    schemes: Vec<String>,
    has_body: bool,
    has_query: bool,
    /// A `user_id` the caller may name (query parameter or body field).
    names_user: bool,
}

impl Facts<'_> {
    fn users_may_call(&self) -> bool {
        self.schemes.iter().any(|s| s == "bearer" || s == "oauth2")
    }

    fn services_may_call(&self) -> bool {
        self.schemes.iter().any(|s| s == "api_key")
    }
}

/// The error codes every operation with these facts can answer.
fn shared_codes(f: &Facts<'_>) -> Vec<ErrorCode> {
    use ErrorCode::*;
    let mut codes = Vec::new();
    let under_api = f.path.starts_with("/api/");
    if !f.schemes.is_empty() {
        codes.push(Unauthenticated);
        if !OWN_AUTH.contains(&f.operation_id) {
            codes.push(TokenExpired);
            codes.push(AmbiguousCredentials);
        }
    }
    if f.has_body {
        codes.extend([
            MalformedJson,
            MalformedBody,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
        ]);
    }
    if f.has_query {
        // Unknown and malformed parameters.
        codes.push(ValidationFailed);
    }
    if f.users_may_call() && !OWN_AUTH.contains(&f.operation_id) {
        // A portal session's token is a bearer token too: admitted on the
        // webhook routes (where a read-only one can only look), refused
        // everywhere else.
        if !f.path.starts_with("/api/webhooks") {
            codes.push(PortalScope);
        } else if f.method != "get" || f.path.ends_with("/secret") {
            codes.push(PortalReadOnly);
        }
        // A personal access token is a bearer token too, within its scopes.
        codes.push(InsufficientScope);
    }
    if f.names_user {
        if f.users_may_call() {
            codes.push(Forbidden);
        }
        if f.services_may_call() {
            // A service must name the user, and the user must exist.
            codes.extend([UserIdRequired, UserNotFound]);
        }
    }
    if under_api {
        codes.extend([RateLimited, StoreUnavailable]);
        // Only a change waits for replicas (a GET writes nothing that does).
        if f.method != "get" {
            codes.push(WriteUnconfirmed);
        }
    }
    codes
}

fn operation_codes(operation_id: &str) -> Option<&'static [ErrorCode]> {
    OPERATION_CODES
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map(|(_, codes)| *codes)
}

/// Adds every error response each operation can answer.
fn complete(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let facts = facts(path, method, op, &schemas);
            let mut codes = shared_codes(&facts);
            codes.extend(operation_codes(facts.operation_id).unwrap_or_default());
            add_error_responses(op, &codes);
        }
    }
}

fn facts<'a>(path: &'a str, method: &'a str, op: &'a Value, schemas: &Value) -> Facts<'a> {
    let params = op["parameters"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let body_schemas: Vec<&Value> = op["requestBody"]["content"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, c)| resolve(&c["schema"], schemas))
        .collect();
    Facts {
        path,
        method,
        operation_id: op["operationId"].as_str().unwrap_or_default(),
        schemes: op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|r| r.keys().cloned())
            .collect(),
        has_body: op.get("requestBody").is_some(),
        has_query: params.iter().any(|p| p["in"] == "query"),
        names_user: params
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == "user_id")
            || body_schemas
                .iter()
                .any(|s| s["properties"].get("user_id").is_some()),
    }
}

/// Follows a `$ref` into the components.
fn resolve<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => &schemas[name],
        None => schema,
    }
}

/// A generic sentence for an error status an operation did not describe.
fn generic_description(status: u16) -> &'static str {
    match status {
        400 => "The body is not valid JSON or could not be read",
        401 => "No valid credential (with two, both must be valid and name the same caller)",
        403 => "The caller may not do this",
        404 => "Not found (another user's resources are not found either)",
        409 => "Conflict with the stored state",
        413 => "The body is larger than the limit (256 KiB by default)",
        415 => "The body is not of a content type this operation reads",
        422 => "Invalid fields or parameters (unknown ones included), named in `fields`",
        429 => "Rate limited; retry after `Retry-After` seconds",
        503 => "A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover)",
        _ => "Error",
    }
}

fn add_error_responses(op: &mut Value, codes: &[ErrorCode]) {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        let list = by_status.entry(code.status().as_u16()).or_default();
        if !list.contains(code) {
            list.push(*code);
        }
    }
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    for (status, codes) in by_status {
        let entry = responses
            .entry(status.to_string())
            .or_insert_with(|| json!({"description": generic_description(status)}));
        let description = entry["description"]
            .as_str()
            .unwrap_or(generic_description(status))
            .trim_end_matches('.')
            .to_owned();
        let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        let listed = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        entry["description"] = Value::String(format!("{description}. Codes: {listed}."));
        entry["content"] = json!({
            "application/json": {
                "schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/ErrorBody"},
                        {"type": "object", "properties": {"code": {"type": "string", "enum": names}}}
                    ]
                }
            }
        });
        let mut headers = Map::new();
        match status {
            401 => {
                headers.insert(
                    "WWW-Authenticate".into(),
                    json!({"description": "Always `Bearer`", "required": true, "schema": {"type": "string"}}),
                );
            }
            429 => {
                headers.insert(
                    "Retry-After".into(),
                    json!({"description": "Seconds to wait", "required": true, "schema": {"type": "integer", "minimum": 1}}),
                );
            }
            _ => {}
        }
        if !headers.is_empty() {
            entry["headers"] = Value::Object(headers);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::ApiDoc;
    use utoipa::OpenApi as _;

    /// The document the hub serves.
    fn served() -> Value {
        document(ApiDoc::openapi())
    }

    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                ops.push((method.clone(), path.clone(), op));
            }
        }
        ops
    }

    #[test]
    fn every_operation_is_in_the_code_table() {
        let doc = served();
        for (method, path, op) in operations(&doc) {
            let id = op["operationId"].as_str().unwrap();
            assert!(
                operation_codes(id).is_some(),
                "{method} {path} ({id}) is missing from OPERATION_CODES"
            );
        }
        assert_eq!(operations(&doc).len(), OPERATION_CODES.len());
    }

    #[test]
    fn error_responses_name_their_codes_with_the_error_schema() {
        let doc = served();
        for (method, path, op) in operations(&doc) {
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                let status: u16 = status.parse().unwrap();
                if status < 400 {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"]["allOf"];
                assert_eq!(
                    schema[0]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
                for code in schema[1]["properties"]["code"]["enum"].as_array().unwrap() {
                    let code = ErrorCode::ALL
                        .iter()
                        .find(|c| c.as_str() == code)
                        .unwrap_or_else(|| panic!("{code} is not an ErrorCode"));
                    assert_eq!(code.status().as_u16(), status, "{method} {path} {code}");
                }
            }
            if op.get("security").is_some() {
                for status in ["401", "429"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
            }
        }
    }

    #[test]
    fn the_error_code_schema_is_the_enum() {
        let doc = served();
        let listed: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, all);
    }

    #[test]
    fn allowed_methods_come_from_the_document() {
        let contract = Contract::new(ApiDoc::openapi());
        assert_eq!(contract.allowed_methods("/health"), Some(vec![Method::GET]));
        let mut webhook = contract.allowed_methods("/api/webhooks/wh_1").unwrap();
        webhook.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        assert_eq!(
            webhook,
            vec![Method::DELETE, Method::GET, Method::PATCH, Method::PUT]
        );
        assert_eq!(
            contract.allowed_methods("/api/docs/init.js"),
            Some(vec![Method::GET])
        );
        assert_eq!(contract.allowed_methods("/api/nowhere"), None);
        assert_eq!(
            contract.allowed_methods("/api/activities/bulk"),
            Some(vec![Method::POST])
        );
    }
}
