//! Analytics against the real server: every metric, periods and buckets,
//! time zones, the summary rules, isolation, and CSV / JSON / XLSX exports
//! (XLSX read back by Python's openpyxl), including a large streamed export.
//!
//! History is written through the API: service keys back-date activities
//! with `created_at`, in bulk through `POST /api/activities/bulk`.

use std::time::{Duration, Instant};

use awc::http::header::HeaderMap;
use awc::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::helpers::*;

/// Imports `(type, created_at)` activities for `user` with the service key.
async fn backdate(app: &TestApp, user: &str, items: &[(&str, &str)]) {
    let activities: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, (kind, at))| json!({"type": kind, "title": format!("event {i}"), "created_at": at}))
        .collect();
    import(app, user, activities).await;
}

/// Imports activity objects for `user`, at most 1,000 per request.
async fn import(app: &TestApp, user: &str, activities: Vec<Value>) -> Vec<String> {
    import_chunked(app, user, activities, 1_000).await
}

/// Imports activity objects for `user`, `chunk` per request.
async fn import_chunked(
    app: &TestApp,
    user: &str,
    activities: Vec<Value>,
    chunk: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in activities.chunks(chunk) {
        let (status, body) = app
            .post(
                "/api/activities/bulk",
                Some(SERVICE_KEY),
                &json!({"user_id": user, "activities": chunk}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["created"], chunk.len());
        ids.extend(
            body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
    }
    ids
}

/// `n` copies of `(kind, at)`.
fn times<'a>(n: usize, kind: &'a str, at: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![(kind, at); n]
}

/// The summary at `query`, asserting 200.
async fn summary(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/analytics/summary{query}"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn metric<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == name)
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
}

fn values(m: &Value) -> Vec<f64> {
    m["data_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect()
}

fn starts(summary: &Value) -> Vec<String> {
    summary["metrics"][0]["data_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["start"].as_str().unwrap().to_owned())
        .collect()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A raw response: status, headers, body bytes.
async fn fetch(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let req = app.client.request(method, app.url(path)).bearer_auth(token);
    let mut res = match body {
        Some(b) => req.send_json(b).await.expect("request sent"),
        None => req.send().await.expect("request sent"),
    };
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res
        .body()
        .limit(256 * 1024 * 1024)
        .await
        .expect("body read");
    (status, headers, bytes.to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn every_metric_is_counted_when_activities_are_stored(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("metrics@example.com").await;
    let hour = |h: u32, m: u32| format!("2025-02-03T{h:02}:{m:02}:00Z");
    let (h10a, h10b, h13, h15) = (hour(10, 5), hour(10, 50), hour(13, 0), hour(15, 30));
    let mut items = Vec::new();
    items.extend(times(2, "prospect_added", &h10a));
    items.push(("prospect_added", h10b.as_str()));
    items.push(("prospect_added", h13.as_str()));
    items.extend(times(2, "research_completed", &h13));
    items.extend(times(4, "outreach_sent", &h15));
    items.push(("meeting_booked", h15.as_str()));
    items.extend(times(2, "content_published", &h10a));
    items.extend(times(5, "automation_triggered", &h13));
    items.extend(times(3, "notification", &h13));
    backdate(&app, &user, &items).await;
    // Completed tasks as task completion records them, imported.
    let task_done = |kind: &str| {
        json!({"type": "task_completed", "title": "done", "created_at": h15,
               "metadata": {"task_id": "tsk_x", "kind": kind}})
    };
    import(
        &app,
        &user,
        vec![
            task_done("research"),
            task_done("research"),
            task_done("content"),
        ],
    )
    .await;

    let s = summary(
        &app,
        &token,
        "?start=2025-02-03T00:00:00Z&end=2025-02-04T00:00:00Z",
    )
    .await;
    assert_eq!(s["user_id"], user.as_str());
    assert_eq!(s["time_range"], "custom");
    assert_eq!(s["granularity"], "hour");
    assert_eq!(s["period_start"], "2025-02-03T00:00:00.000Z");
    assert_eq!(s["period_end"], "2025-02-04T00:00:00.000Z");
    let names: Vec<&str> = s["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "prospects_added",
            "prospects_analyzed",
            "research_tasks_completed",
            "outreach_sent",
            "meetings_booked",
            "content_published",
            "automations_triggered",
            "tasks_completed",
            "conversion_rate"
        ]
    );
    for (name, total) in [
        ("prospects_added", json!(4)),
        ("prospects_analyzed", json!(2)),
        ("research_tasks_completed", json!(2)),
        ("outreach_sent", json!(4)),
        ("meetings_booked", json!(1)),
        ("content_published", json!(2)),
        ("automations_triggered", json!(5)),
        ("tasks_completed", json!(3)),
        ("conversion_rate", json!(0.25)),
    ] {
        assert_eq!(metric(&s, name)["total"], total, "{name}");
    }
    // Hourly buckets, zero-filled: prospects at 10:00 (3) and 13:00 (1).
    let prospects = values(metric(&s, "prospects_added"));
    assert_eq!(prospects.len(), 24);
    assert_eq!(prospects[10], 3.0);
    assert_eq!(prospects[13], 1.0);
    assert_eq!(prospects.iter().sum::<f64>(), 4.0);
    assert_eq!(starts(&s)[10], "2025-02-03T10:00:00.000Z");
    let rate = values(metric(&s, "conversion_rate"));
    assert_eq!(rate[15], 0.25);
    assert_eq!(rate[10], 0.0, "no outreach in the bucket: 0");

    // Tasks completed through the tasks API count too, now.
    for kind in ["research", "outreach"] {
        let (_, task) = app
            .post(
                "/api/tasks",
                Some(&token),
                &json!({"kind": kind, "title": "work"}),
            )
            .await;
        let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
        for status in ["running", "completed"] {
            let (code, body) = app
                .send_json("PATCH", &path, Some(&token), &json!({"status": status}))
                .await;
            assert_eq!(code, StatusCode::OK, "{body}");
        }
    }
    let today = summary(&app, &token, "?time_range=day").await;
    assert_eq!(metric(&today, "tasks_completed")["total"], 2);
    assert_eq!(metric(&today, "research_tasks_completed")["total"], 1);
    assert_eq!(metric(&today, "prospects_added")["total"], 0);
}

async fn totals_previous_change_average_and_trend_follow_the_rules(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("rules@example.com").await;
    let mut items = Vec::new();
    // Previous period: 6–9 January. Current: 10–13 January (4 daily buckets).
    items.extend(times(4, "outreach_sent", "2025-01-07T09:00:00Z"));
    items.push(("outreach_sent", "2025-01-09T23:59:59.999Z"));
    items.push(("meeting_booked", "2025-01-07T10:00:00Z"));
    items.extend(times(3, "prospect_added", "2025-01-08T10:00:00Z"));
    items.extend(times(10, "research_completed", "2025-01-08T11:00:00Z"));
    items.extend(times(10, "automation_triggered", "2025-01-06T00:00:00Z"));
    items.extend(times(10, "task_completed", "2025-01-06T12:00:00Z"));
    items.extend(times(4, "outreach_sent", "2025-01-10T00:00:00Z"));
    items.push(("meeting_booked", "2025-01-10T08:00:00Z"));
    items.extend(times(2, "outreach_sent", "2025-01-12T08:00:00Z"));
    items.extend(times(2, "meeting_booked", "2025-01-12T09:00:00Z"));
    items.extend(times(11, "research_completed", "2025-01-11T11:00:00Z"));
    items.extend(times(9, "automation_triggered", "2025-01-13T23:59:59Z"));
    items.extend(times(8, "task_completed", "2025-01-11T12:00:00Z"));
    items.extend(times(2, "content_published", "2025-01-13T12:00:00Z"));
    // Just past the end: in neither period.
    items.extend(times(7, "outreach_sent", "2025-01-14T00:00:00Z"));
    backdate(&app, &user, &items).await;

    let s = summary(
        &app,
        &token,
        "?start=2025-01-10T00:00:00Z&end=2025-01-14T00:00:00Z",
    )
    .await;
    assert_eq!(s["granularity"], "day");
    assert_eq!(
        starts(&s),
        [
            "2025-01-10T00:00:00.000Z",
            "2025-01-11T00:00:00.000Z",
            "2025-01-12T00:00:00.000Z",
            "2025-01-13T00:00:00.000Z"
        ]
    );
    let check = |name: &str, total: Value, previous: Value, change: Value, trend: &str| {
        let m = metric(&s, name);
        assert_eq!(m["total"], total, "{name} total");
        assert_eq!(m["previous_total"], previous, "{name} previous");
        assert_eq!(m["change_pct"], change, "{name} change");
        assert_eq!(m["trend"], trend, "{name} trend");
    };
    check("outreach_sent", json!(6), json!(5), json!(20.0), "up");
    check("meetings_booked", json!(3), json!(1), json!(200.0), "up");
    check("prospects_added", json!(0), json!(3), json!(-100.0), "down");
    check("content_published", json!(2), json!(0), Value::Null, "up");
    check(
        "research_tasks_completed",
        json!(0),
        json!(0),
        Value::Null,
        "stable",
    );
    check(
        "prospects_analyzed",
        json!(11),
        json!(10),
        json!(10.0),
        "stable",
    );
    check(
        "automations_triggered",
        json!(9),
        json!(10),
        json!(-10.0),
        "stable",
    );
    check("tasks_completed", json!(8), json!(10), json!(-20.0), "down");
    check(
        "conversion_rate",
        json!(0.5),
        json!(0.2),
        json!(150.0),
        "up",
    );

    let sent = metric(&s, "outreach_sent");
    assert_eq!(values(sent), [4.0, 0.0, 2.0, 0.0], "zero-filled");
    assert_eq!(sent["average"], 1.5);
    assert_eq!(metric(&s, "prospects_added")["average"], 0.0);
    let rate = metric(&s, "conversion_rate");
    assert_eq!(values(rate), [0.25, 0.0, 1.0, 0.0]);
    assert_eq!(rate["average"], 0.3125);
    for m in s["metrics"].as_array().unwrap() {
        assert_eq!(m["data_points"].as_array().unwrap().len(), 4, "{m}");
    }
}

async fn named_ranges_are_trailing_windows_with_the_spec_granularity(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("ranges@example.com").await;
    // One activity now (stamped by the hub, so it is in the newest bucket of
    // every range), the others back-dated.
    app.publish(&token, "outreach_sent", "just now").await;
    let now = Utc::now();
    let ago = |d: chrono::Duration| rfc3339(now - d);
    let at = [
        ago(chrono::Duration::days(2)),
        ago(chrono::Duration::days(10)),
        ago(chrono::Duration::days(20)),
        ago(chrono::Duration::days(60)),
        ago(chrono::Duration::days(300)),
        ago(chrono::Duration::days(800)),
    ];
    let items: Vec<(&str, &str)> = at.iter().map(|t| ("outreach_sent", t.as_str())).collect();
    backdate(&app, &user, &items).await;

    for (range, granularity, points, total, previous) in [
        ("day", "hour", 24, 1, 0),
        ("week", "day", 7, 2, 1),
        ("month", "day", 30, 4, 0),
        ("quarter", "week", 13, 5, 0),
        ("year", "month", 12, 6, 0),
    ] {
        let s = summary(&app, &token, &format!("?time_range={range}")).await;
        assert_eq!(s["time_range"], range);
        assert_eq!(s["granularity"], granularity, "{range}");
        let sent = metric(&s, "outreach_sent");
        assert_eq!(
            sent["data_points"].as_array().unwrap().len(),
            points,
            "{range}"
        );
        assert_eq!(sent["total"], total, "{range}");
        assert_eq!(sent["previous_total"], previous, "{range}");
        let start: DateTime<Utc> = s["period_start"].as_str().unwrap().parse().unwrap();
        let end: DateTime<Utc> = s["period_end"].as_str().unwrap().parse().unwrap();
        let newest: DateTime<Utc> = starts(&s).last().unwrap().parse().unwrap();
        assert!(
            start < now && now < end,
            "{range}: now is inside {start}..{end}"
        );
        assert!(newest <= now, "{range}: the newest bucket holds now");
        assert!(
            *values(sent).last().unwrap() >= 1.0,
            "{range}: the activity published now is in the last bucket"
        );
    }
    let week = summary(&app, &token, "?time_range=week").await;
    assert_eq!(metric(&week, "outreach_sent")["trend"], "up");
    assert_eq!(metric(&week, "outreach_sent")["change_pct"], 100.0);
    // Default: month.
    let default = summary(&app, &token, "").await;
    assert_eq!(default["time_range"], "month");
    assert_eq!(default["granularity"], "day");
    assert_eq!(
        default["metrics"][0]["data_points"]
            .as_array()
            .unwrap()
            .len(),
        30
    );
}

async fn custom_ranges_pick_granularity_by_length_and_widen_to_buckets(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("custom@example.com").await;
    let s = summary(
        &app,
        &token,
        "?start=2025-01-01T10:30:00Z&end=2025-01-03T10:30:00Z",
    )
    .await;
    assert_eq!(s["granularity"], "hour");
    assert_eq!(s["period_start"], "2025-01-01T10:00:00.000Z");
    assert_eq!(s["period_end"], "2025-01-03T11:00:00.000Z");
    assert_eq!(starts(&s).len(), 49);

    let s = summary(
        &app,
        &token,
        "?start=2025-01-01T00:00:00Z&end=2025-01-11T00:00:00Z",
    )
    .await;
    assert_eq!(s["granularity"], "day");
    assert_eq!(starts(&s).len(), 10);

    let s = summary(
        &app,
        &token,
        "?start=2025-01-01T00:00:00Z&end=2025-04-01T00:00:00Z",
    )
    .await;
    assert_eq!(s["granularity"], "week");
    assert_eq!(
        s["period_start"], "2024-12-30T00:00:00.000Z",
        "weeks start on Monday"
    );
    assert_eq!(starts(&s)[1], "2025-01-06T00:00:00.000Z");

    let s = summary(
        &app,
        &token,
        "?start=2024-01-01T00:00:00Z&end=2025-03-01T00:00:00Z",
    )
    .await;
    assert_eq!(s["granularity"], "month");
    assert_eq!(starts(&s).len(), 14);
    assert_eq!(starts(&s)[13], "2025-02-01T00:00:00.000Z");
}

async fn time_zones_move_bucket_boundaries(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("tz@example.com").await;
    backdate(
        &app,
        &user,
        &[
            // 14 January 22:30 in New York, 15 January 12:30 in Tokyo.
            ("outreach_sent", "2025-01-15T03:30:00Z"),
            // 15 January 11:00 in New York, 16 January 01:00 in Tokyo.
            ("outreach_sent", "2025-01-15T16:00:00Z"),
            // 10 March 00:30 in New York (EDT since the 9th; EST would say 9 March 23:30).
            ("meeting_booked", "2025-03-10T04:30:00Z"),
        ],
    )
    .await;
    let range = "start=2025-01-13T00:00:00Z&end=2025-01-18T00:00:00Z";

    let utc = summary(&app, &token, &format!("?{range}")).await;
    assert_eq!(
        values(metric(&utc, "outreach_sent")),
        [0.0, 0.0, 2.0, 0.0, 0.0]
    );

    let ny = summary(&app, &token, &format!("?{range}&tz=America/New_York")).await;
    assert_eq!(
        ny["period_start"], "2025-01-12T05:00:00.000Z",
        "local midnight"
    );
    assert_eq!(ny["period_end"], "2025-01-18T05:00:00.000Z");
    assert_eq!(
        values(metric(&ny, "outreach_sent")),
        [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(starts(&ny)[2], "2025-01-14T05:00:00.000Z");

    let tokyo = summary(&app, &token, &format!("?{range}&tz=Asia/Tokyo")).await;
    assert_eq!(tokyo["period_start"], "2025-01-12T15:00:00.000Z");
    assert_eq!(
        values(metric(&tokyo, "outreach_sent")),
        [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(starts(&tokyo)[3], "2025-01-15T15:00:00.000Z");

    // Across the spring-forward day: 9 March has 23 hours.
    let dst = summary(
        &app,
        &token,
        "?start=2025-03-06T05:00:00Z&end=2025-03-12T04:00:00Z&tz=America/New_York",
    )
    .await;
    assert_eq!(
        starts(&dst),
        [
            "2025-03-06T05:00:00.000Z",
            "2025-03-07T05:00:00.000Z",
            "2025-03-08T05:00:00.000Z",
            "2025-03-09T05:00:00.000Z",
            "2025-03-10T04:00:00.000Z",
            "2025-03-11T04:00:00.000Z"
        ]
    );
    assert_eq!(
        values(metric(&dst, "meetings_booked")),
        [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    );
}

async fn bad_ranges_zones_and_export_fields_are_422(backend: Backend) {
    let app = spawn(backend).await;
    let (_, token, _) = app.user("bad@example.com").await;
    for (query, field) in [
        ("?tz=Mars/Olympus_Mons", "tz"),
        ("?tz=utc%2B2", "tz"),
        ("?time_range=decade", "time_range"),
        ("?time_range=week&start=2025-01-01T00:00:00Z", "time_range"),
        ("?start=2025-01-01T00:00:00Z", "end"),
        ("?end=2025-01-01T00:00:00Z", "start"),
        ("?start=yesterday&end=2025-01-01T00:00:00Z", "start"),
        (
            "?start=2025-01-02T00:00:00Z&end=2025-01-01T00:00:00Z",
            "end",
        ),
        (
            "?start=2000-01-01T00:00:00Z&end=2025-01-01T00:00:00Z",
            "start",
        ),
        ("?granularity=day", "granularity"),
        ("?forecast=maybe", "forecast"),
    ] {
        let (status, body) = app
            .get(&format!("/api/analytics/summary{query}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["fields"][0]["field"], field, "{query}: {body}");
    }
    for (query, field) in [
        ("?data=activities", "format"),
        ("?format=pdf&data=activities", "format"),
        ("?format=csv", "data"),
        ("?format=csv&data=users", "data"),
        (
            "?format=csv&data=activities&types=outreach_sent,bogus",
            "types",
        ),
        ("?format=csv&data=metrics&types=meeting_booked", "types"),
        ("?format=csv&data=activities&tz=Nowhere", "tz"),
        (
            "?format=csv&data=activities&time_range=fortnight",
            "time_range",
        ),
    ] {
        let (status, body) = app
            .get(&format!("/api/analytics/export{query}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["fields"][0]["field"], field, "{query}: {body}");
    }
    let (status, body) = app
        .post(
            "/api/analytics/export",
            Some(&token),
            &json!({"format": "csv", "data": "activities", "fromat": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app.get("/api/analytics/summary", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Checks the forecast of every metric of `s`: as many points as buckets,
/// one bucket apart by `step`, from `period_end`, never negative, each value
/// inside its interval (or, with too little history, no points and no
/// totals). Returns the forecasts by metric name.
fn check_forecasts(s: &Value, step: chrono::Duration) -> Vec<(String, Value)> {
    let end: DateTime<Utc> = s["period_end"].as_str().unwrap().parse().unwrap();
    let mut out = Vec::new();
    for m in s["metrics"].as_array().unwrap() {
        let name = m["metric"].as_str().unwrap();
        let f = &m["forecast"];
        let points = f["points"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {f}"));
        if f["method"] == "insufficient_data" {
            assert!(points.is_empty(), "{name}: {f}");
            assert_eq!(f["total"], Value::Null, "{name}: {f}");
            out.push((name.to_owned(), f.clone()));
            continue;
        }
        assert_eq!(
            points.len(),
            m["data_points"].as_array().unwrap().len(),
            "{name}: one point per bucket: {f}"
        );
        for (i, p) in points.iter().enumerate() {
            let start: DateTime<Utc> = p["start"].as_str().unwrap().parse().unwrap();
            assert_eq!(start, end + step * i as i32, "{name} point {i}");
            let (value, low, high) = (
                p["value"].as_f64().unwrap(),
                p["low"].as_f64().unwrap(),
                p["high"].as_f64().unwrap(),
            );
            assert!(
                0.0 <= low && low <= value && value <= high,
                "{name} point {i}: {p}"
            );
            if name == "conversion_rate" {
                assert!(high <= 1.0, "{p}");
            }
        }
        let (total, low, high) = (
            f["total"].as_f64().unwrap(),
            f["low"].as_f64().unwrap(),
            f["high"].as_f64().unwrap(),
        );
        assert!(0.0 <= low && low <= total && total <= high, "{name}: {f}");
        out.push((name.to_owned(), f.clone()));
    }
    out
}

async fn forecasts_cover_the_next_period_of_every_metric(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("forecast@example.com").await;
    // 60 days of history, 2 December 2024 to 30 January 2025, at noon:
    // outreach with a weekly pattern, the other metrics steady or growing.
    let first = DateTime::parse_from_rfc3339("2024-12-02T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let outreach = |d: usize| 4 + d % 7;
    let mut activities = Vec::new();
    for d in 0..60 {
        let at = rfc3339(first + chrono::Duration::days(d as i64));
        let mut add = |kind: &str, n: usize, metadata: Value| {
            for _ in 0..n {
                activities.push(
                    json!({"type": kind, "title": "e", "created_at": at, "metadata": metadata}),
                );
            }
        };
        add("outreach_sent", outreach(d), json!({}));
        add("meeting_booked", 1 + d % 2, json!({}));
        add("prospect_added", 3 + d / 10, json!({}));
        add("research_completed", 2, json!({}));
        add("content_published", usize::from(d % 3 == 0), json!({}));
        add("automation_triggered", 5, json!({}));
        add(
            "task_completed",
            1,
            json!({"task_id": "tsk_r", "kind": "research"}),
        );
        add(
            "task_completed",
            1,
            json!({"task_id": "tsk_c", "kind": "content"}),
        );
    }
    import(&app, &user, activities).await;

    let range = "?start=2025-01-01T00:00:00Z&end=2025-01-31T00:00:00Z";
    let s = summary(&app, &token, &format!("{range}&forecast=true")).await;
    assert_eq!(s["granularity"], "day");
    assert_eq!(s["period_end"], "2025-01-31T00:00:00.000Z");
    let forecasts = check_forecasts(&s, chrono::Duration::days(1));
    assert_eq!(forecasts.len(), 9);
    for (name, f) in &forecasts {
        let allowed: &[&str] = if name == "conversion_rate" {
            &["ratio_of_forecasts"]
        } else {
            &["holt_linear", "holt_winters_additive"]
        };
        assert!(
            allowed.contains(&f["method"].as_str().unwrap()),
            "{name}: {f}"
        );
    }
    let sent = &forecasts
        .iter()
        .find(|(n, _)| n == "outreach_sent")
        .unwrap()
        .1;
    assert_eq!(sent["method"], "holt_winters_additive", "{sent}");
    // The pattern goes on: days 60 to 89 of it.
    let expected: usize = (60..90).map(outreach).sum();
    let (low, high) = (
        sent["low"].as_f64().unwrap(),
        sent["high"].as_f64().unwrap(),
    );
    assert!(
        low <= expected as f64 && expected as f64 <= high,
        "{expected}: {sent}"
    );
    let rate = &forecasts
        .iter()
        .find(|(n, _)| n == "conversion_rate")
        .unwrap()
        .1;
    let rate_total = rate["total"].as_f64().unwrap();
    assert!((0.1..0.3).contains(&rate_total), "{rate}");

    // Without forecast (or with forecast=false): today's answer, unchanged.
    let plain = summary(&app, &token, range).await;
    let off = summary(&app, &token, &format!("{range}&forecast=false")).await;
    assert_eq!(plain, off);
    assert!(plain["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m.get("forecast").is_none()));
    let mut stripped = s.clone();
    for m in stripped["metrics"].as_array_mut().unwrap() {
        m.as_object_mut().unwrap().remove("forecast");
    }
    assert_eq!(stripped, plain, "the forecast only adds");

    // A named range in a zone: the trailing week, whose newest day is not
    // over; the forecast starts at the next Tokyo midnight.
    let (other, other_token, _) = app.user("forecast-tokyo@example.com").await;
    let now = Utc::now();
    let mut recent = Vec::new();
    for d in 1..14 {
        let at = rfc3339(now - chrono::Duration::days(d));
        for _ in 0..(3 + d % 3) {
            recent.push(json!({"type": "outreach_sent", "title": "e", "created_at": at}));
        }
    }
    import(&app, &other, recent).await;
    let s = summary(
        &app,
        &other_token,
        "?time_range=week&tz=Asia/Tokyo&forecast=true",
    )
    .await;
    let sent = metric(&s, "outreach_sent");
    let points = sent["forecast"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 7, "{sent}");
    assert_eq!(points[0]["start"], s["period_end"]);
    for p in points {
        assert!(
            p["start"].as_str().unwrap().ends_with("T15:00:00.000Z"),
            "Tokyo midnight: {p}"
        );
    }
    check_forecasts(&s, chrono::Duration::days(1));
    // No history at all: no made-up line.
    let prospects = metric(&s, "prospects_added");
    assert_eq!(prospects["forecast"]["method"], "insufficient_data");
    assert_eq!(prospects["forecast"]["points"], json!([]));
    assert_eq!(prospects["forecast"]["total"], Value::Null);

    // OpenAPI documents the parameter and the fields.
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let params = doc["paths"]["/api/analytics/summary"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let param = params.iter().find(|p| p["name"] == "forecast").unwrap();
    assert_eq!(param["schema"]["type"], "boolean", "{param}");
    let schemas = &doc["components"]["schemas"];
    for field in ["method", "total", "low", "high", "points"] {
        assert!(
            schemas["MetricForecast"]["properties"].get(field).is_some(),
            "{field}: {}",
            schemas["MetricForecast"]
        );
    }
    for field in ["start", "value", "low", "high"] {
        assert!(schemas["ForecastPoint"]["properties"].get(field).is_some());
    }
    assert!(schemas["MetricSummary"]["properties"]
        .get("forecast")
        .is_some());
}

async fn users_only_see_their_own_numbers(backend: Backend) {
    let app = spawn(backend).await;
    let (alice, a_token, _) = app.user("alice.analytics@example.com").await;
    let (bob, b_token, _) = app.user("bob.analytics@example.com").await;
    backdate(
        &app,
        &alice,
        &times(3, "outreach_sent", "2025-06-02T10:00:00Z"),
    )
    .await;
    backdate(
        &app,
        &bob,
        &times(1, "meeting_booked", "2025-06-02T10:00:00Z"),
    )
    .await;
    let range = "start=2025-06-01T00:00:00Z&end=2025-06-08T00:00:00Z";

    let a = summary(&app, &a_token, &format!("?{range}")).await;
    assert_eq!(metric(&a, "outreach_sent")["total"], 3);
    assert_eq!(metric(&a, "meetings_booked")["total"], 0);
    let b = summary(&app, &b_token, &format!("?{range}")).await;
    assert_eq!(b["user_id"], bob.as_str());
    assert_eq!(metric(&b, "outreach_sent")["total"], 0);
    assert_eq!(metric(&b, "meetings_booked")["total"], 1);

    // A user token cannot name someone else; a service key can.
    let (status, _) = app
        .get(
            &format!("/api/analytics/summary?{range}&user_id={alice}"),
            Some(&b_token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .get(
            &format!("/api/analytics/export?format=csv&data=activities&{range}&user_id={alice}"),
            Some(&b_token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let service = summary(&app, SERVICE_KEY, &format!("?{range}&user_id={alice}")).await;
    assert_eq!(metric(&service, "outreach_sent")["total"], 3);
    let (status, _) = app
        .get(
            &format!("/api/analytics/summary?{range}"),
            Some(SERVICE_KEY),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "service keys name the user");
    let (status, body) = app
        .get(
            &format!("/api/analytics/summary?{range}&user_id=usr_nobody"),
            Some(SERVICE_KEY),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "user_not_found");

    // Exports too.
    let (_, _, bytes) = fetch(
        &app,
        "GET",
        &format!("/api/analytics/export?format=json&data=activities&{range}"),
        &b_token,
        None,
    )
    .await;
    let items: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["user_id"], bob.as_str());
}

async fn only_service_keys_back_date_activities(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("backdate@example.com").await;
    let (status, body) = app
        .post(
            "/api/activities",
            Some(&token),
            &json!({"type": "outreach_sent", "title": "x", "created_at": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "service_key_required");

    let (status, body) = app
        .post(
            "/api/activities",
            Some(SERVICE_KEY),
            &json!({"type": "outreach_sent", "title": "x", "user_id": user,
                    "created_at": "2025-01-01T02:00:00.1239+01:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["created_at"], "2025-01-01T01:00:00.123Z");
    let s = summary(
        &app,
        &token,
        "?start=2025-01-01T00:00:00Z&end=2025-01-02T00:00:00Z",
    )
    .await;
    assert_eq!(
        values(metric(&s, "outreach_sent"))[1],
        1.0,
        "counted in its own hour"
    );

    let future = rfc3339(Utc::now() + chrono::Duration::hours(1));
    let (status, body) = app
        .post(
            "/api/activities",
            Some(SERVICE_KEY),
            &json!({"type": "outreach_sent", "title": "x", "user_id": user, "created_at": future}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "created_at");

    // Bulk imports: service keys only, every item checked, all or nothing.
    let (status, _) = app
        .post(
            "/api/activities/bulk",
            Some(&token),
            &json!({"user_id": user, "activities": [{"type": "outreach_sent", "title": "x"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(
            "/api/activities/bulk",
            Some(SERVICE_KEY),
            &json!({"user_id": user, "activities": [
                {"type": "outreach_sent", "title": "fine"},
                {"type": "outreach_sent", "title": "  "}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "activities[1].title");
    let (_, list) = app
        .get("/api/activities?type=outreach_sent", Some(&token))
        .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing of the bad import stored"
    );
}

/// The activities of the CSV test: (type, title, message, metadata).
fn tricky_activities() -> Vec<Value> {
    let at = "2025-05-01T12:00:00Z";
    vec![
        json!({"type": "outreach_sent", "title": "=1+2", "message": "He said \"hi\", then left\nbye",
               "metadata": {"a": 1}, "created_at": at}),
        json!({"type": "prospect_added", "title": "=HYPERLINK(\"http://x\",\"y\")", "created_at": at}),
        json!({"type": "prospect_added", "title": "+1 555 0100", "created_at": at}),
        json!({"type": "prospect_added", "title": "-2", "created_at": at}),
        json!({"type": "prospect_added", "title": "@SUM(A1)", "created_at": at}),
        json!({"type": "prospect_added", "title": "plain, with comma", "message": "\tTabbed",
               "link": "https://acme.example/a?b=c", "created_at": at}),
        json!({"type": "meeting_booked", "title": "Zoë & Ünal <CEO>", "created_at": "2025-05-01T13:30:00Z"}),
    ]
}

async fn csv_export_is_rfc_4180_and_neutralises_formulas(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("csv@example.com").await;
    let ids = import(&app, &user, tricky_activities()).await;
    // Outside the range: not exported.
    backdate(&app, &user, &[("outreach_sent", "2025-05-02T00:00:00Z")]).await;

    let (status, headers, bytes) = fetch(
        &app,
        "GET",
        "/api/analytics/export?format=csv&data=activities&start=2025-05-01T00:00:00Z&end=2025-05-02T00:00:00Z",
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("text/csv"));
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"aiclone-activities-20250501-20250501.csv\""
    );
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "id,created_at,type,title,message,link,metadata,user_id"
    );
    let at = "2025-05-01T12:00:00.000Z";
    let expected = [
        format!(
            "{},{at},outreach_sent,'=1+2,\"He said \"\"hi\"\", then left\nbye\",,\"{{\"\"a\"\":1}}\",{user}",
            ids[0]
        ),
        format!(
            "{},{at},prospect_added,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",,,{{}},{user}",
            ids[1]
        ),
        format!("{},{at},prospect_added,'+1 555 0100,,,{{}},{user}", ids[2]),
        format!("{},{at},prospect_added,'-2,,,{{}},{user}", ids[3]),
        format!("{},{at},prospect_added,'@SUM(A1),,,{{}},{user}", ids[4]),
        format!(
            "{},{at},prospect_added,\"plain, with comma\",'\tTabbed,https://acme.example/a?b=c,{{}},{user}",
            ids[5]
        ),
        format!(
            "{},2025-05-01T13:30:00.000Z,meeting_booked,Zoë & Ünal <CEO>,,,{{}},{user}",
            ids[6]
        ),
    ];
    // The first record spans two lines (a quoted LF), so compare whole text.
    let body = text.split_once("\r\n").unwrap().1;
    assert_eq!(body, format!("{}\r\n", expected.join("\r\n")));

    // An independent reader agrees on the fields.
    let fields = python_json(
        "import csv, io, json, sys\n\
         rows = list(csv.reader(io.StringIO(open(sys.argv[1], newline='', encoding='utf-8').read())))\n\
         print(json.dumps(rows))",
        &text.into_bytes(),
        "csv",
    );
    let rows = fields.as_array().unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[1][4], "He said \"hi\", then left\nbye");
    assert_eq!(rows[2][3], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(rows[6][4], "'\tTabbed");
}

async fn json_exports_of_activities_and_metrics(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("json@example.com").await;
    let mut items = times(3, "outreach_sent", "2025-05-01T09:00:00Z");
    items.extend(times(1, "meeting_booked", "2025-05-02T09:00:00Z"));
    items.extend(times(2, "prospect_added", "2025-05-02T10:00:00Z"));
    backdate(&app, &user, &items).await;
    let (start, end) = ("2025-05-01T00:00:00Z", "2025-05-05T00:00:00Z");

    let (status, headers, bytes) = fetch(
        &app,
        "POST",
        "/api/analytics/export",
        &token,
        Some(
            &json!({"format": "json", "data": "activities", "start": start, "end": end,
                     "types": ["outreach_sent", "meeting_booked"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"aiclone-activities-20250501-20250504.json\""
    );
    let exported: Value = serde_json::from_slice(&bytes).unwrap();
    let exported = exported.as_array().unwrap();
    assert_eq!(exported.len(), 4);
    assert!(exported.iter().all(|a| a["type"] != "prospect_added"));
    assert_eq!(exported[3]["type"], "meeting_booked");
    assert_eq!(exported[0]["created_at"], "2025-05-01T09:00:00.000Z");
    let ids: Vec<&str> = exported.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "in id order");

    // Comma-separated types in the query string work the same.
    let (_, _, bytes) = fetch(
        &app,
        "GET",
        &format!("/api/analytics/export?format=json&data=activities&start={start}&end={end}&types=prospect_added"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Metrics: the summary, with only the metrics asked for.
    let (status, headers, bytes) = fetch(
        &app,
        "POST",
        "/api/analytics/export",
        &token,
        Some(
            &json!({"format": "json", "data": "metrics", "start": start, "end": end,
                     "types": "outreach_sent,conversion_rate"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        header(&headers, "content-disposition").contains("aiclone-metrics-20250501-20250504.json")
    );
    let exported: Value = serde_json::from_slice(&bytes).unwrap();
    let s = summary(&app, &token, &format!("?start={start}&end={end}")).await;
    assert_eq!(exported["metrics"].as_array().unwrap().len(), 2);
    assert_eq!(exported["metrics"][0], *metric(&s, "outreach_sent"));
    assert_eq!(exported["metrics"][1], *metric(&s, "conversion_rate"));
    assert_eq!(exported["metrics"][1]["total"], 0.3333);
    assert_eq!(exported["period_start"], s["period_start"]);

    // Metrics as CSV: one row per bucket, a column per metric.
    let (status, _, bytes) = fetch(
        &app,
        "GET",
        &format!("/api/analytics/export?format=csv&data=metrics&start={start}&end={end}&types=outreach_sent,meetings_booked,conversion_rate"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "start,outreach_sent,meetings_booked,conversion_rate\r\n\
         2025-05-01T00:00:00.000Z,3,0,0\r\n\
         2025-05-02T00:00:00.000Z,0,1,0\r\n\
         2025-05-03T00:00:00.000Z,0,0,0\r\n\
         2025-05-04T00:00:00.000Z,0,0,0\r\n"
    );
}

/// Runs `script` with Python on `bytes` (saved to a temporary file with
/// extension `ext`, passed as `sys.argv[1]`) and parses what it prints as JSON.
/// Fails the test with a clear message when Python or openpyxl is missing.
fn python_json(script: &str, bytes: &[u8], ext: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("export.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to check exports and could not run: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'openpyxl'") {
        panic!(
            "Python's openpyxl is not installed, and the XLSX tests need it to read the \
             export back: run `pip install openpyxl` (.ci/run installs it)"
        );
    }
    assert!(out.status.success(), "python failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// Reads every sheet with openpyxl: `{sheet: [[{"t": type, "v": value}]]}`.
const OPENPYXL_DUMP: &str = r#"
import json, sys
import openpyxl
book = openpyxl.load_workbook(sys.argv[1])
out = {"sheets": book.sheetnames, "cells": {}}
for sheet in book.worksheets:
    rows = []
    for row in sheet.iter_rows():
        rows.append([{"t": type(c.value).__name__,
                      "v": c.value.isoformat() if hasattr(c.value, "isoformat") else c.value,
                      "fmt": c.number_format} for c in row])
    out["cells"][sheet.title] = rows
print(json.dumps(out))
"#;

async fn xlsx_exports_open_in_openpyxl_with_typed_cells(backend: Backend) {
    let app = spawn(backend).await;
    let (user, token, _) = app.user("xlsx@example.com").await;
    let ids = import(&app, &user, tricky_activities()).await;
    let range = "start=2025-05-01T00:00:00Z&end=2025-05-02T00:00:00Z";

    let (status, headers, bytes) = fetch(
        &app,
        "GET",
        &format!("/api/analytics/export?format=xlsx&data=activities&{range}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"aiclone-activities-20250501-20250501.xlsx\""
    );
    let book = python_json(OPENPYXL_DUMP, &bytes, "xlsx");
    assert_eq!(book["sheets"], json!(["Activities"]));
    let rows = book["cells"]["Activities"].as_array().unwrap();
    assert_eq!(rows.len(), 8, "header and 7 activities");
    let header_row: Vec<&str> = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["v"].as_str().unwrap())
        .collect();
    assert_eq!(
        header_row,
        [
            "id",
            "created_at",
            "type",
            "title",
            "message",
            "link",
            "metadata",
            "user_id"
        ]
    );
    let first = rows[1].as_array().unwrap();
    assert_eq!(first[0]["v"], ids[0].as_str());
    assert_eq!(first[0]["t"], "str", "ids stay text");
    assert_eq!(first[1]["t"], "datetime", "a real date: {}", first[1]);
    assert_eq!(first[1]["v"], "2025-05-01T12:00:00");
    assert_eq!(first[3]["v"], "=1+2", "a text cell, never a formula");
    assert_eq!(first[3]["t"], "str");
    assert_eq!(first[4]["v"], "He said \"hi\", then left\nbye");
    assert_eq!(first[6]["v"], "{\"a\":1}");
    assert_eq!(first[7]["v"], user.as_str());
    assert_eq!(rows[7][3]["v"], "Zoë & Ünal <CEO>");
    assert_eq!(rows[7][1]["v"], "2025-05-01T13:30:00");

    // Metrics: a Summary sheet and a Data points sheet, numbers and dates typed.
    backdate(
        &app,
        &user,
        &[
            ("outreach_sent", "2025-05-01T12:00:00Z"),
            ("outreach_sent", "2025-05-01T12:00:00Z"),
        ],
    )
    .await;
    let (status, headers, bytes) = fetch(
        &app,
        "POST",
        "/api/analytics/export",
        &token,
        Some(&json!({"format": "xlsx", "data": "metrics",
                     "start": "2025-05-01T00:00:00Z", "end": "2025-05-05T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-disposition").ends_with(".xlsx\""));
    let book = python_json(OPENPYXL_DUMP, &bytes, "xlsx");
    assert_eq!(book["sheets"], json!(["Summary", "Data points"]));
    let summary_rows = book["cells"]["Summary"].as_array().unwrap();
    assert_eq!(summary_rows.len(), 10, "header and 9 metrics");
    let sent = summary_rows
        .iter()
        .find(|r| r[0]["v"] == "outreach_sent")
        .unwrap();
    assert_eq!(sent[1]["v"], 3);
    assert_eq!(sent[1]["t"], "int");
    assert_eq!(sent[2]["v"], 0);
    assert!(sent[3]["v"].is_null(), "no change_pct from 0");
    assert_eq!(sent[4]["v"], 0.75);
    assert_eq!(sent[4]["t"], "float");
    assert_eq!(sent[5]["v"], "up");
    let points = book["cells"]["Data points"].as_array().unwrap();
    assert_eq!(points.len(), 5, "header and 4 daily buckets");
    assert_eq!(points[0][0]["v"], "start");
    assert_eq!(points[1][0]["t"], "datetime");
    assert_eq!(points[1][0]["v"], "2025-05-01T00:00:00");
    assert_eq!(points[2][0]["v"], "2025-05-02T00:00:00");
    let column = points[0]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["v"] == "outreach_sent")
        .unwrap();
    assert_eq!(points[1][column]["v"], 3);
    assert_eq!(points[2][column]["v"], 0);
}

/// The real `aiclone-hub` binary in a process of its own, so the large-export
/// test reads the hub's RSS alone (the in-process hubs of other tests share
/// the test process's).
struct ExportHub {
    hub: crate::helpers::ChildHub,
    api: Api,
    _data_dir: tempfile::TempDir,
}

impl ExportHub {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let hub = crate::helpers::ChildHub::start(dir.path(), &[("HUB__LOG__LEVEL", "warn")]).await;
        let api = Api::new(hub.port);
        Self {
            hub,
            api,
            _data_dir: dir,
        }
    }

    fn pid(&self) -> u32 {
        self.hub.child.id()
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let req = self
            .api
            .client
            .request(method, self.api.url(path))
            .bearer_auth(token);
        let mut res = match body {
            Some(b) => req.send_json(b).await.expect("request sent"),
            None => req.send().await.expect("request sent"),
        };
        let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body read");
        (
            res.status(),
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Registers and logs in a user: (id, access token).
    async fn user(&self, email: &str) -> (String, String) {
        let (id, access, _) = self.api.user(email).await;
        (id, access)
    }

    async fn summary(&self, token: &str, query: &str) -> Value {
        let (status, body) = self
            .send(
                "GET",
                &format!("/api/analytics/summary{query}"),
                token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Downloads `path` chunk by chunk without keeping it; returns the size
    /// and the largest growth of the hub's RSS over `baseline` seen meanwhile.
    async fn stream_download(&self, path: &str, token: &str, baseline: u64) -> (u64, u64) {
        let mut res = self
            .api
            .client
            .get(self.api.url(path))
            .bearer_auth(token)
            .timeout(Duration::from_secs(300))
            .send()
            .await
            .expect("export starts");
        assert_eq!(res.status(), StatusCode::OK);
        let (mut size, mut peak, mut next_sample) = (0u64, 0u64, 0u64);
        while let Some(chunk) = res.next().await {
            size += chunk.expect("export chunk").len() as u64;
            if size >= next_sample {
                peak = peak.max(rss_bytes(self.pid()).saturating_sub(baseline));
                next_sample = size + 1024 * 1024;
            }
        }
        peak = peak.max(rss_bytes(self.pid()).saturating_sub(baseline));
        (size, peak)
    }
}

/// Activities in the large export. Set `HUB_LARGE_EXPORT` to try another size.
const LARGE_EXPORT_DEFAULT: usize = 200_000;
/// Activities per bulk import request: 500 of these fit the 256 KiB body limit.
const LARGE_IMPORT_CHUNK: usize = 500;

#[actix_web::test]
async fn large_exports_stream_with_flat_memory() {
    let hub = ExportHub::start().await;
    let (user, token) = hub.user("large@example.com").await;
    let total: usize = std::env::var("HUB_LARGE_EXPORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LARGE_EXPORT_DEFAULT);
    let message = "m".repeat(200);
    // Spread over the last two years, so every hour of a year summary and of
    // the year before has a counter row: the most a summary ever reads.
    let now = Utc::now();
    let span = chrono::Duration::days(2 * 365);
    let first = now - span;
    let step_ms = span.num_milliseconds() / total as i64;
    let started = Instant::now();
    let mut batch = Vec::with_capacity(LARGE_IMPORT_CHUNK);
    for i in 0..total {
        batch.push(json!({
            "type": "outreach_sent",
            "title": format!("Outreach number {i}"),
            "message": message,
            "created_at": rfc3339(first + chrono::Duration::milliseconds(i as i64 * step_ms)),
        }));
        if batch.len() == LARGE_IMPORT_CHUNK || i + 1 == total {
            let activities = std::mem::take(&mut batch);
            let (status, body) = hub
                .send(
                    "POST",
                    "/api/activities/bulk",
                    SERVICE_KEY,
                    Some(&json!({"user_id": user, "activities": activities})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
    let imported_in = started.elapsed();

    // Summaries answer from the counters: every activity is in the custom
    // range, and the year summary reads two years of hourly rows.
    let range = format!(
        "start={}&end={}",
        rfc3339(first - chrono::Duration::hours(1)),
        rfc3339(now + chrono::Duration::hours(1))
    );
    let all = hub.summary(&token, &format!("?{range}")).await;
    assert_eq!(all["granularity"], "month");
    assert_eq!(metric(&all, "outreach_sent")["total"], total);
    let mut timings = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let year = hub.summary(&token, "?time_range=year").await;
        timings.push(started.elapsed());
        let sent = metric(&year, "outreach_sent");
        let both = sent["total"].as_u64().unwrap() + sent["previous_total"].as_u64().unwrap();
        assert!(
            both > total as u64 * 9 / 10,
            "{both} of {total} in this year and the last"
        );
    }
    timings.sort();

    let mut report = Vec::new();
    let mut csv_size = 0;
    for format in ["csv", "xlsx"] {
        let baseline = rss_bytes(hub.pid());
        let started = Instant::now();
        let (size, growth) = hub
            .stream_download(
                &format!("/api/analytics/export?format={format}&data=activities&{range}"),
                &token,
                baseline,
            )
            .await;
        report.push(format!(
            "{format}: {size} bytes in {:?}, hub RSS {} KiB before, growth {} KiB",
            started.elapsed(),
            baseline / 1024,
            growth / 1024
        ));
        if format == "csv" {
            assert!(
                size > total as u64 * 200,
                "every activity exported: {size} bytes"
            );
            csv_size = size;
        }
        // Holding the export (or its activities) in memory would grow RSS by
        // at least the CSV's size; streaming keeps it to pages and buffers.
        assert!(
            growth < csv_size / 4,
            "{format}: the hub's RSS grew by {growth} bytes exporting {total} activities ({size} bytes)"
        );
    }
    eprintln!(
        "large export of {total} activities: imported in {imported_in:?}; year summary (median of 5, \
         over HTTP, debug build) {:?}; {}",
        timings[2],
        report.join("; ")
    );
}

both_modes!(
    every_metric_is_counted_when_activities_are_stored,
    totals_previous_change_average_and_trend_follow_the_rules,
    named_ranges_are_trailing_windows_with_the_spec_granularity,
    custom_ranges_pick_granularity_by_length_and_widen_to_buckets,
    time_zones_move_bucket_boundaries,
    bad_ranges_zones_and_export_fields_are_422,
    forecasts_cover_the_next_period_of_every_metric,
    users_only_see_their_own_numbers,
    only_service_keys_back_date_activities,
    csv_export_is_rfc_4180_and_neutralises_formulas,
    json_exports_of_activities_and_metrics,
    xlsx_exports_open_in_openpyxl_with_typed_cells,
);
