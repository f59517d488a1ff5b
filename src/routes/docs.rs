//! The OpenAPI document, Swagger UI and ReDoc. Every asset is compiled into
//! the binary (vendored from npm under `web/vendor/`): the pages work with no
//! internet and name no CDN.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::contract::Contract;

const SWAGGER_JS: &[u8] = include_bytes!("../../web/vendor/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../web/vendor/swagger-ui/swagger-ui.css");
const SWAGGER_OAUTH2_REDIRECT_HTML: &[u8] =
    include_bytes!("../../web/vendor/swagger-ui/oauth2-redirect.html");
const SWAGGER_OAUTH2_REDIRECT_JS: &[u8] =
    include_bytes!("../../web/vendor/swagger-ui/oauth2-redirect.js");
const SWAGGER_FAVICON: &[u8] = include_bytes!("../../web/vendor/swagger-ui/favicon-32x32.png");
const REDOC_JS: &[u8] = include_bytes!("../../web/vendor/redoc/redoc.standalone.js");

const SWAGGER_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>AI Clone Hub API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>
"##;

/// Kept out of the page so a strict Content-Security-Policy needs no inline script.
const SWAGGER_INIT: &str = r##"window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null,
  oauth2RedirectUrl: window.location.origin + "/api/docs/oauth2-redirect.html"
});
"##;

const REDOC_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>AI Clone Hub API — ReDoc</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <redoc spec-url="/api/openapi.json"></redoc>
  <script src="/api/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

fn asset(content_type: &'static str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body)
}

#[get("/api/openapi.json")]
pub async fn openapi_json(contract: web::Data<Contract>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(contract.document())
}

#[get("/api/docs")]
pub async fn swagger_page() -> HttpResponse {
    asset("text/html; charset=utf-8", SWAGGER_PAGE.as_bytes())
}

#[get("/api/docs/{file}")]
pub async fn swagger_asset(file: web::Path<String>) -> HttpResponse {
    match file.as_str() {
        "swagger-ui-bundle.js" => asset("text/javascript; charset=utf-8", SWAGGER_JS),
        "swagger-ui.css" => asset("text/css; charset=utf-8", SWAGGER_CSS),
        "init.js" => asset("text/javascript; charset=utf-8", SWAGGER_INIT.as_bytes()),
        "oauth2-redirect.html" => asset("text/html; charset=utf-8", SWAGGER_OAUTH2_REDIRECT_HTML),
        "oauth2-redirect.js" => asset("text/javascript; charset=utf-8", SWAGGER_OAUTH2_REDIRECT_JS),
        "favicon-32x32.png" => asset("image/png", SWAGGER_FAVICON),
        _ => crate::routes::not_found().await,
    }
}

#[get("/api/redoc")]
pub async fn redoc_page() -> HttpResponse {
    asset("text/html; charset=utf-8", REDOC_PAGE.as_bytes())
}

#[get("/api/redoc/redoc.standalone.js")]
pub async fn redoc_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", REDOC_JS)
}
