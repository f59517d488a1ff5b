//! The dashboard at `/`: the React page built from `web/dashboard` into
//! `web/dist` and compiled into the binary by `build.rs`, so it works with no
//! Node, no files beside the binary and no internet.
//!
//! `index.html` is revalidated on every load (`no-cache` with an ETag) so a
//! new hub version is picked up at once; files under `/assets/` carry a hash
//! of their content in their name and are cached for a year. Every page
//! answer carries a strict Content-Security-Policy: scripts and styles only
//! from the hub itself, no inline script. The dashboard cannot be framed;
//! the webhook portal at `/portal` only by the origins the operator allows.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// One embedded file of the build.
pub struct Asset {
    /// The URL path it is served at (`/index.html`, `/assets/index-1a2b.js`).
    pub path: &'static str,
    pub body: &'static [u8],
    pub content_type: &'static str,
    /// Content-hashed names never change content, so clients keep them.
    pub immutable: bool,
    /// A strong validator: a hash of the bytes, quoted.
    pub etag: &'static str,
}

/// Every file of `web/dist`, sorted by path.
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/dashboard_assets.rs"));

/// What the page may load and who may frame it. `connect-src 'self'` covers
/// the hub's own `ws:`/`wss:` origin, which is all the page talks to.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .map(|i| &ASSETS[i])
}

/// The URL paths of files at the top of the build (`/favicon.svg`), which
/// get one route each; the pages are served at `/` and `/portal`.
pub fn root_files() -> impl Iterator<Item = &'static str> {
    ASSETS
        .iter()
        .map(|a| a.path)
        .filter(|p| !p[1..].contains('/') && !p.ends_with(".html"))
}

/// Who may show a page in a frame.
enum Framing {
    /// Nobody: the dashboard.
    Never,
    /// The hub itself and `server.allowed_origins`: the webhook portal,
    /// which the AI Clone app embeds.
    AllowedOrigins(String),
}

impl Framing {
    fn for_portal(state: &AppState) -> Self {
        let mut ancestors = String::from("'self'");
        for origin in &state.settings.server.allowed_origins {
            ancestors.push(' ');
            ancestors.push_str(origin.trim_end_matches('/'));
        }
        Framing::AllowedOrigins(ancestors)
    }
}

fn serve(req: &HttpRequest, asset: &'static Asset) -> HttpResponse {
    serve_framed(req, asset, &Framing::Never)
}

fn serve_framed(req: &HttpRequest, asset: &'static Asset, framing: &Framing) -> HttpResponse {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, asset.etag))
        .insert_header((
            header::CACHE_CONTROL,
            if asset.immutable {
                IMMUTABLE
            } else {
                "no-cache"
            },
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if asset.content_type.starts_with("text/html") {
        res.insert_header((header::REFERRER_POLICY, "no-referrer"));
        match framing {
            Framing::Never => {
                res.insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
                    .insert_header((header::X_FRAME_OPTIONS, "DENY"));
            }
            Framing::AllowedOrigins(ancestors) => {
                let policy = CONTENT_SECURITY_POLICY.replace(
                    "frame-ancestors 'none'",
                    &format!("frame-ancestors {ancestors}"),
                );
                res.insert_header((header::CONTENT_SECURITY_POLICY, policy));
            }
        }
    }
    if fresh {
        return res.finish();
    }
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    ))
    .body(asset.body)
}

/// `GET /`: the page.
pub async fn index(req: HttpRequest) -> HttpResponse {
    match find("/index.html") {
        Some(asset) => serve(&req, asset),
        None => not_built(),
    }
}

/// `GET /portal`: the embeddable webhook portal, framable by the hub's own
/// origin and `server.allowed_origins` only.
pub async fn portal(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match find("/portal.html") {
        Some(asset) => serve_framed(&req, asset, &Framing::for_portal(&state)),
        None => not_built(),
    }
}

/// `GET /assets/{file}` and the top-level files of the build.
pub async fn file(req: HttpRequest) -> HttpResponse {
    match find(req.path()) {
        Some(asset) => serve(&req, asset),
        None => crate::routes::not_found().await,
    }
}

/// A binary built from a tree without `web/dist` says so instead of a bare 404.
fn not_built() -> HttpResponse {
    use actix_web::ResponseError;
    ApiError::new(
        ErrorCode::NotFound,
        "This hub was built without its dashboard (web/dist is missing); run `npm ci && npm run build` in web/ and rebuild.",
    )
    .error_response()
}

/// Routes the page and its files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/portal", web::get().to(portal))
        .route("/assets/{file:.+}", web::get().to(file));
    for path in root_files() {
        cfg.route(path, web::get().to(file));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_sorted_for_binary_search() {
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
    }

    #[test]
    fn policy_allows_no_inline_script_and_no_framing() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    }
}
