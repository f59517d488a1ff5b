//! Identity: register, login, refresh rotation, logout, token rules, restart.

use awc::http::StatusCode;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::helpers::*;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT signed with `alg` (HS256/HS512 over `key`, or `none`).
fn forge(alg: &str, claims: &Value, key: &[u8]) -> String {
    let head = b64(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
    let body = b64(claims.to_string().as_bytes());
    let input = format!("{head}.{body}");
    let sig = match alg {
        "none" => String::new(),
        "HS512" => {
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
            mac.update(input.as_bytes());
            b64(&mac.finalize().into_bytes())
        }
        _ => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(input.as_bytes());
            b64(&mac.finalize().into_bytes())
        }
    };
    format!("{input}.{sig}")
}

fn claims(sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": sub, "iat": now, "exp": now + 600, "jti": "j1",
           "iss": "aiclone-hub", "aud": "aiclone-hub", "typ": "access"})
}

async fn register_login_me(backend: Backend) {
    let app = spawn(backend).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "  Ada@Example.com ", "password": "correct horse", "full_name": "Ada"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let user = &body["user"];
    assert_eq!(user["email"], "Ada@Example.com");
    assert_eq!(user["full_name"], "Ada");
    assert!(user["id"].as_str().unwrap().starts_with("usr_"));
    assert!(user.get("password_hash").is_none());
    let created = user["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");

    // OAuth2 password form, as Swagger UI's Authorize sends it.
    let mut res = app
        .client
        .post(app.url("/api/auth/login"))
        .send_form(&[
            ("grant_type", "password"),
            ("username", "ada@example.com"),
            ("password", "correct horse"),
            ("scope", ""),
            ("client_id", ""),
        ])
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 1800);
    let access = tokens["access_token"].as_str().unwrap();

    let (status, me) = app.get("/api/auth/me", Some(access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], user["id"]);

    // JSON login works too.
    app.login("ADA@example.com", "correct horse").await;
}

async fn login_failures_look_the_same(backend: Backend) {
    let app = spawn(backend).await;
    app.user("bob@example.com").await;
    let (s1, b1) = app
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "bob@example.com", "password": "wrong password"}),
        )
        .await;
    let (s2, b2) = app
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "nobody@example.com", "password": "wrong password"}),
        )
        .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(b1, b2);
    assert_eq!(b1["code"], "invalid_credentials");

    let mut res = app
        .client
        .post(app.url("/api/auth/login"))
        .insert_header(("content-type", "text/plain"))
        .send_body("hello")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "unsupported_media_type");
}

async fn registration_rules(backend: Backend) {
    let app = spawn(backend).await;
    app.user("carol@example.com").await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "CAROL@example.COM", "password": "another password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"code": "email_taken", "message": "An account with this e-mail already exists."})
    );

    for (password, expect) in [
        ("short", "password"),
        (&"x".repeat(1025) as &str, "password"),
    ] {
        let (status, body) = app
            .post(
                "/api/auth/register",
                None,
                &json!({"email": "dan@example.com", "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["fields"][0]["field"], expect);
    }
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "not-an-email", "password": "long enough"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "email");
    // A rejected registration changed nothing: the address is still free.
    app.user("dan@example.com").await;
}

async fn forged_and_foreign_tokens_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let (id, _, _) = app.user("eve@example.com").await;
    let key = TEST_SECRET.as_bytes();

    // The control: a token we forge correctly is accepted, so each refusal
    // below is about the one thing changed.
    let good = forge("HS256", &claims(&id), key);
    assert_eq!(app.get("/api/auth/me", Some(&good)).await.0, StatusCode::OK);

    let mut cases = vec![
        ("alg none", forge("none", &claims(&id), key)),
        ("HS512", forge("HS512", &claims(&id), key)),
        (
            "other key",
            forge("HS256", &claims(&id), b"another-secret-another-secret-xx"),
        ),
    ];
    for (field, value) in [
        ("iss", json!("someone-else")),
        ("aud", json!("someone-else")),
        ("typ", json!("refresh")),
        ("exp", json!(chrono::Utc::now().timestamp() - 5)),
    ] {
        let mut c = claims(&id);
        c[field] = value;
        cases.push((field, forge("HS256", &c, key)));
    }
    for (what, token) in cases {
        let mut res = app
            .client
            .get(app.url("/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            res.headers().get("www-authenticate").unwrap(),
            "Bearer",
            "{what}"
        );
        let body: Value = res.json().await.unwrap();
        assert!(body["code"].is_string(), "{what}");
    }
    let (status, _) = app.get("/api/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = spawn(backend).await;
    let (_, access, refresh1) = app.user("frank@example.com").await;

    // Neither kind passes for the other.
    assert_eq!(
        app.get("/api/auth/me", Some(&refresh1)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = app
        .post("/api/auth/refresh", None, &json!({"refresh_token": access}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, pair2) = app
        .post(
            "/api/auth/refresh",
            None,
            &json!({"refresh_token": refresh1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pair2}");
    let refresh2 = pair2["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh1);
    assert_eq!(
        app.get(
            "/api/auth/me",
            Some(pair2["access_token"].as_str().unwrap())
        )
        .await
        .0,
        StatusCode::OK
    );

    // Reusing the spent token revokes the whole family, including refresh2.
    let (status, body) = app
        .post(
            "/api/auth/refresh",
            None,
            &json!({"refresh_token": refresh1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "refresh_token_reused");
    let (status, _) = app
        .post(
            "/api/auth/refresh",
            None,
            &json!({"refresh_token": refresh2}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another login is another family, and logout revokes it.
    let (_, refresh3) = app
        .login("frank@example.com", "correct horse battery")
        .await;
    let mut res = app
        .client
        .post(app.url("/api/auth/logout"))
        .send_json(&json!({"refresh_token": refresh3}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let _ = res.body().await;
    let (status, _) = app
        .post(
            "/api/auth/refresh",
            None,
            &json!({"refresh_token": refresh3}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn restart_keeps_users_and_the_generated_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    // Embedded default: no configured key, one is generated in the data dir.
    settings.auth.jwt_secret = None;
    let app = start(settings.clone(), None).await;
    let (_, access, refresh) = app.user("grace@example.com").await;
    app.stop().await;
    assert!(dir.path().join("jwt_secret").exists());

    let app = start(settings, None).await;
    assert_eq!(
        app.get("/api/auth/me", Some(&access)).await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .post(
            "/api/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.login("grace@example.com", "correct horse battery")
        .await;
    app.stop().await;
}

#[actix_web::test]
async fn api_key_cli_creates_a_working_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aiclone-hub"))
        .args(["api-key", "create"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("key:"))
        .unwrap()
        .trim()
        .to_owned();
    let entry = text
        .split('"')
        .find(|s| s.starts_with("sha256:"))
        .unwrap()
        .to_owned();
    let app = spawn_app_with(|s| s.auth.api_keys = vec![entry]).await;
    let (user_id, _, _) = app.user("hal@example.com").await;
    let mut res = app
        .client
        .post(app.url("/api/activities"))
        .insert_header(("X-API-Key", key.as_str()))
        .send_json(&json!({"type": "notification", "title": "hi", "user_id": user_id}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let _ = res.body().await;
    // The same key as a bearer credential, and a wrong key.
    let (status, _) = app
        .post(
            "/api/activities",
            Some(&key),
            &json!({"type": "notification", "title": "hi", "user_id": user_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(
            "/api/activities",
            Some("hubk_wrong"),
            &json!({"type": "notification", "title": "hi", "user_id": user_id}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn bad_config_names_the_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aiclone-hub"))
        .env("HUB__WEBSOCKET__CLIENT_TIMEOUT", "soon")
        .env(
            "HUB__STORAGE__DATA_DIR",
            tempfile::tempdir().unwrap().path(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("websocket.client_timeout"), "{err}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aiclone-hub"))
        .env("HUB__REDIS__URL", "redis://127.0.0.1:6379")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("auth.jwt_secret"));
}

both_modes!(
    register_login_me,
    login_failures_look_the_same,
    registration_rules,
    forged_and_foreign_tokens_are_refused,
    refresh_rotates_and_reuse_revokes_the_family,
);
