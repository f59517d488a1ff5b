//! OpenAPI, Swagger UI and ReDoc, served offline.

use awc::http::StatusCode;

use crate::helpers::*;

#[actix_web::test]
async fn openapi_documents_every_route() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/me", "get"),
        ("/api/activities", "post"),
        ("/api/activities", "get"),
        ("/api/activities/{id}", "get"),
        ("/api/activities/bulk", "post"),
        ("/api/broadcast", "post"),
        ("/api/analytics/summary", "get"),
        ("/api/analytics/export", "get"),
        ("/api/analytics/export", "post"),
        ("/api/tasks", "post"),
        ("/api/tasks", "get"),
        ("/api/tasks/{id}", "get"),
        ("/api/tasks/{id}", "patch"),
        ("/api/ws", "get"),
        ("/api/ws/status", "get"),
        ("/health", "get"),
        ("/ready", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/api/auth/login");
    for schema in [
        "Activity",
        "Task",
        "User",
        "TokenPair",
        "ErrorBody",
        "Summary",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
}

async fn text(app: &TestApp, path: &str) -> String {
    let mut res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    String::from_utf8(res.body().limit(8 * 1024 * 1024).await.unwrap().to_vec()).unwrap()
}

#[actix_web::test]
async fn docs_pages_need_no_internet() {
    let app = spawn_app().await;
    let swagger = text(&app, "/api/docs").await;
    let redoc = text(&app, "/api/redoc").await;
    let init = text(&app, "/api/docs/init.js").await;
    for (name, page) in [("swagger", &swagger), ("redoc", &redoc), ("init", &init)] {
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{name} names an external URL"
        );
    }
    // Every asset the pages reference is served by the hub.
    for page in [&swagger, &redoc] {
        for src in page.split(['"', '\'']).filter(|s| s.starts_with("/api/")) {
            let mut res = app.client.get(app.url(src)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{src}");
            assert!(
                !res.body().limit(8 * 1024 * 1024).await.unwrap().is_empty(),
                "{src}"
            );
        }
    }
    assert!(init.contains("validatorUrl: null"));
    assert!(text(&app, "/api/docs/swagger-ui-bundle.js").await.len() > 100_000);
    assert!(text(&app, "/api/redoc/redoc.standalone.js").await.len() > 100_000);
}

#[actix_web::test]
async fn the_served_document_lists_every_error_an_operation_can_answer() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap();
    for code in [
        "malformed_json",
        "ambiguous_credentials",
        "method_not_allowed",
        "task_changed",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code}");
    }
    let list = &doc["paths"]["/api/webhooks"]["get"]["responses"];
    let listed = |status: &str| -> Vec<String> {
        list[status]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]
            ["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{status} lists no codes"))
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        listed("401"),
        ["unauthenticated", "token_expired", "ambiguous_credentials"]
    );
    assert_eq!(
        listed("403"),
        ["insufficient_scope", "forbidden", "user_id_required"]
    );
    assert_eq!(listed("404"), ["user_not_found"]);
    assert_eq!(listed("422"), ["validation_failed"]);
    assert_eq!(listed("429"), ["rate_limited"]);
    assert_eq!(listed("503"), ["store_unavailable"]);
    assert_eq!(list["429"]["headers"]["Retry-After"]["required"], true);
    let create = &doc["paths"]["/api/tasks"]["post"]["responses"];
    for status in ["400", "401", "413", "415", "422", "429"] {
        assert!(create.get(status).is_some(), "POST /api/tasks {status}");
    }
    let cursor = doc["paths"]["/api/tasks"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cursor")
        .unwrap();
    assert_eq!(cursor["schema"]["pattern"], "^[0-9]{1,18}$");
}
