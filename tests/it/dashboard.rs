//! The dashboard page at `/`, embedded in the binary: served with a strict
//! Content-Security-Policy, revalidated on every load, its hashed files
//! cached for a year, and everything it references served by the hub.

use awc::http::StatusCode;

use crate::helpers::*;

/// What a GET answered: status, headers and the whole body.
struct Got {
    status: StatusCode,
    headers: awc::http::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

async fn fetch(app: &TestApp, path: &str, etag: Option<&str>) -> Got {
    let mut req = app.client.get(app.url(path));
    if let Some(tag) = etag {
        req = req.insert_header(("If-None-Match", tag));
    }
    let mut res = req.send().await.expect("request sent");
    let body = res
        .body()
        .limit(16 << 20)
        .await
        .expect("body read")
        .to_vec();
    Got {
        status: res.status(),
        headers: res.headers().clone(),
        body,
    }
}

#[actix_web::test]
async fn the_page_is_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let res = fetch(&app, "/", None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").starts_with("text/html"));
    assert_eq!(res.header("cache-control"), "no-cache");
    let csp = res.header("content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp} lacks {directive}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(res.header("x-frame-options"), "DENY");
    let etag = res.header("etag");
    let page = String::from_utf8(res.body.clone()).unwrap();
    assert!(page.contains("<script"), "the page loads a script");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page names no external URL"
    );
    // An unchanged page is not sent again.
    let again = fetch(&app, "/", Some(etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    // Every file the page references is embedded, typed and cached for good.
    let refs: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/assets/"))
        .collect();
    assert!(!refs.is_empty(), "the page references its bundle");
    for path in refs {
        let res = fetch(&app, path, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(res.header("cache-control").contains("immutable"), "{path}");
        let ct = res.header("content-type");
        if path.ends_with(".js") {
            assert!(ct.starts_with("text/javascript"), "{path}: {ct}");
        } else if path.ends_with(".css") {
            assert!(ct.starts_with("text/css"), "{path}: {ct}");
        }
        assert!(!res.body.is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn unknown_files_are_json_404s() {
    let app = spawn_app().await;
    let (status, body) = app.get("/assets/no-such-file.js", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[actix_web::test]
async fn only_the_portal_can_be_framed_and_only_by_allowed_origins() {
    let app = spawn_app_with(|s| {
        s.server.allowed_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let portal = fetch(&app, "/portal", None).await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(portal.header("content-type").starts_with("text/html"));
    let csp = portal.header("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'self' https://app.example.com"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(portal.headers.get("x-frame-options").is_none());
    let page = String::from_utf8(portal.body.clone()).unwrap();
    for path in page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/assets/"))
    {
        assert_eq!(
            fetch(&app, path, None).await.status,
            StatusCode::OK,
            "{path}"
        );
    }

    let dashboard = fetch(&app, "/", None).await;
    let csp = dashboard.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("app.example.com"), "{csp}");
    assert_eq!(dashboard.header("x-frame-options"), "DENY");
}
