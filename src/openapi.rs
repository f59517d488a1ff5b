//! The OpenAPI document, assembled from the `#[utoipa::path]` annotations on
//! every handler. Swagger UI's *Authorize* uses the OAuth2 password flow
//! against `/api/auth/login`.

use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes,
    SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AI Clone Hub",
        description = "Real-time and integration backbone of AI Clone: activities, tasks, live WebSocket feed, webhooks, analytics.\n\n\
            Errors are always `{\"code\", \"message\"}` (plus `fields` on 422). Times are RFC 3339 UTC.",
    ),
    paths(
        routes::auth::register,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::me,
        routes::tokens::create_token,
        routes::tokens::list_tokens,
        routes::tokens::revoke_token,
        routes::activities::create_activity,
        routes::activities::bulk_create,
        routes::activities::list_activities,
        routes::activities::get_activity,
        routes::activities::broadcast,
        routes::analytics::summary,
        routes::analytics::export_get,
        routes::analytics::export_post,
        routes::tasks::create_task,
        routes::tasks::update_task,
        routes::tasks::get_task,
        routes::tasks::list_tasks,
        routes::webhooks::create_webhook,
        routes::webhooks::list_webhooks,
        routes::webhooks::get_webhook,
        routes::webhooks::replace_webhook,
        routes::webhooks::patch_webhook,
        routes::webhooks::delete_webhook,
        routes::webhooks::get_secret,
        routes::webhooks::rotate_secret,
        routes::webhooks::enable_webhook,
        routes::webhooks::test_webhook,
        routes::webhooks::list_deliveries,
        routes::webhooks::retry_delivery,
        routes::hooks::subscribe,
        routes::hooks::unsubscribe,
        routes::hooks::sample,
        routes::portal::create_session,
        routes::portal::exchange,
        routes::ws::connect,
        routes::ws::status,
        routes::health::health,
        routes::health::ready,
        routes::health::metrics,
    ),
    components(schemas(crate::error::FieldError)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Register, log in, rotate tokens"),
        (name = "activities", description = "Events published by workers and the frontend"),
        (name = "analytics", description = "Summaries with trends, and CSV / JSON / XLSX exports"),
        (name = "tasks", description = "Long-running work with live progress"),
        (name = "webhooks", description = "Signed deliveries of activities to external receivers (Standard Webhooks)"),
        (name = "websocket", description = "The live feed"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A user's access token (JWT), or a personal access token \
                         (`hub_pat_…`, within its scopes: `read`, `write`, `webhooks`).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                "/api/auth/login",
                Scopes::new(),
            ))])),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}
