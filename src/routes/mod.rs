//! HTTP routes, one file per resource.

pub mod activities;
pub mod analytics;
pub mod auth;
pub mod dashboard;
pub mod docs;
pub mod health;
pub mod hooks;
pub mod portal;
pub mod tasks;
pub mod tokens;
pub mod webhooks;
pub mod ws;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::contract::Contract;

use crate::error::{ApiError, ErrorCode};

/// The JSON 404 of unknown routes.
pub async fn not_found() -> HttpResponse {
    ApiError::new(ErrorCode::NotFound, "No such route.").error_response()
}

/// What requests no route took get: 405 with `Allow` when the path exists
/// with other methods, else the JSON 404.
pub async fn fallback(req: HttpRequest, contract: web::Data<Contract>) -> HttpResponse {
    let Some(methods) = contract.allowed_methods(req.path()) else {
        return not_found().await;
    };
    let allow = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut res = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} is not supported here; use {allow}.", req.method()),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// Everything under `/api` that handlers serve.
pub fn api(cfg: &mut web::ServiceConfig) {
    // The WebSocket upgrade first: the router tries routes in order, and
    // every route with a `{param}` before it costs a regex match per connect.
    cfg.service(ws::connect)
        .service(auth::register)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(tokens::create_token)
        .service(tokens::list_tokens)
        .service(tokens::revoke_token)
        .service(activities::create_activity)
        .service(activities::bulk_create)
        // Before `/activities/{id}`, which would take `GET …/bulk` as an id.
        .service(web::resource("/activities/bulk").to(fallback))
        .service(activities::list_activities)
        .service(activities::get_activity)
        .service(activities::broadcast)
        .service(analytics::summary)
        .service(analytics::export_get)
        .service(analytics::export_post)
        .service(tasks::create_task)
        .service(tasks::list_tasks)
        .service(tasks::get_task)
        .service(tasks::update_task)
        .service(hooks::subscribe)
        .service(hooks::sample)
        .service(hooks::unsubscribe)
        .service(webhooks::create_webhook)
        .service(webhooks::list_webhooks)
        .service(webhooks::get_webhook)
        .service(webhooks::replace_webhook)
        .service(webhooks::patch_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::get_secret)
        .service(webhooks::rotate_secret)
        .service(webhooks::enable_webhook)
        .service(webhooks::test_webhook)
        .service(webhooks::list_deliveries)
        .service(webhooks::retry_delivery)
        .service(portal::create_session)
        .service(portal::exchange)
        .service(ws::status);
}
