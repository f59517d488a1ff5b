//! The store contract suite: the rules of [`Store`] as executable checks,
//! run against every back-end so the SQLite and Redis stores cannot drift
//! apart.
//!
//! Each property is one `pub async fn` taking a [`Subject`]: a fresh, empty
//! store and the [`Recorder`] it announces to. A back-end runs them all with
//! [`store_contract_tests!`](crate::store_contract_tests), which writes one
//! `#[tokio::test]` per property into the calling test crate (so a failure
//! names the rule it broke), given a factory `async fn(Arc<dyn EventSink>) ->
//! Fixture` that opens the store on a scratch database (a temporary SQLite
//! file, a unique Redis key prefix) and cleans it up when the fixture drops.
//!
//! The factory must keep the resume history at [`HISTORY_EVENTS`] events
//! (the Redis store's `history_size`), as the hub configures both the store
//! and the window it replays with from one setting.
//!
//! Only what the doc comments of the store traits promise is checked here;
//! a back-end's own details (migrations, key layout) are tested in its crate.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{
    ActivityQuery, ActivityScan, AppendOutcome, Conflict, HistoryWindow, NewUser, PersonalToken,
    PersonalTokenRecord, PortalGrant, RefreshTokenRecord, RotateOutcome, Store, StoreError,
    TaskChange, TaskQuery, TokenScope,
};
use crate::analytics::{CountedMetric, HourlyCounts};
use crate::events::EventSink;
use crate::ids::{ActivityId, DeliveryId, TaskId, TokenId, UserId, WebhookId};
use crate::model::{
    Activity, ActivityType, IdempotencyKey, NewActivity, Task, TaskKind, TaskStatus,
};
use crate::time;
use crate::webhook::{
    self, AttemptRecord, Delivery, DeliveryAttempt, DeliveryQuery, DeliveryStatus, EndpointUpdate,
    EventType, Webhook, WebhookChange, WebhookFormat, WebhookStatus,
};

/// How many events the resume history of the store under test holds.
pub const HISTORY_EVENTS: usize = 5;

/// The window every replay check uses: [`HISTORY_EVENTS`] events, one hour.
pub fn history_window() -> HistoryWindow {
    HistoryWindow {
        max_events: HISTORY_EVENTS,
        max_age: Duration::hours(1),
    }
}

// ----- the harness -----

/// What a factory opens: the store, and whatever must live as long as it
/// and be cleaned up after (a temporary directory, a Redis key prefix).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    /// Dropped after the store, also when the property failed.
    pub guard: Box<dyn Any + Send>,
}

impl Fixture {
    pub fn new(store: Arc<dyn Store>, guard: impl Any + Send) -> Self {
        Self {
            store,
            guard: Box::new(guard),
        }
    }
}

/// A fresh, empty store and the sink it announces to: what each property
/// runs against.
pub struct Subject {
    pub store: Arc<dyn Store>,
    pub sink: Arc<Recorder>,
    // Declared last: dropped after the store.
    _guard: Box<dyn Any + Send>,
}

impl Subject {
    /// Opens a store with a new [`Recorder`] through `open`.
    pub async fn open<F, Fut>(open: F) -> Self
    where
        F: FnOnce(Arc<dyn EventSink>) -> Fut,
        Fut: Future<Output = Fixture>,
    {
        let sink = Arc::new(Recorder::default());
        let fixture = open(sink.clone()).await;
        Self {
            store: fixture.store,
            sink,
            _guard: fixture.guard,
        }
    }
}

/// One announcement the store made to its sink.
#[derive(Clone, Debug)]
pub enum Announced {
    Activity(Activity),
    Task(Task),
    Deliveries(Vec<Delivery>),
}

/// An [`EventSink`] that remembers every announcement in the order made.
/// It never panics itself (a store may call it from its writer thread); the
/// checks read the log afterwards.
#[derive(Default)]
pub struct Recorder {
    log: Mutex<Vec<Announced>>,
}

impl Recorder {
    fn push(&self, item: Announced) {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(item);
    }

    /// Everything announced so far, in order.
    pub fn log(&self) -> Vec<Announced> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn activities(&self) -> Vec<Activity> {
        self.log()
            .into_iter()
            .filter_map(|a| match a {
                Announced::Activity(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    pub fn tasks(&self) -> Vec<Task> {
        self.log()
            .into_iter()
            .filter_map(|a| match a {
                Announced::Task(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log()
            .into_iter()
            .filter_map(|a| match a {
                Announced::Deliveries(d) => Some(d),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Panics unless each user's activities were announced in id order and
    /// every delivery of an activity after that activity.
    pub fn assert_in_order(&self) {
        let mut last: HashMap<UserId, ActivityId> = HashMap::new();
        let mut seen: HashSet<ActivityId> = HashSet::new();
        for item in self.log() {
            match item {
                Announced::Activity(a) => {
                    if let Some(previous) = last.get(&a.user_id) {
                        assert!(
                            *previous < a.id,
                            "activity {} of {} announced after {previous}",
                            a.id,
                            a.user_id
                        );
                    }
                    last.insert(a.user_id.clone(), a.id.clone());
                    seen.insert(a.id);
                }
                Announced::Deliveries(deliveries) => {
                    for d in deliveries {
                        if let Some(id) = carried_activity(&d) {
                            assert!(
                                seen.contains(&id),
                                "delivery {} announced before its activity {id}",
                                d.id
                            );
                        }
                    }
                }
                Announced::Task(_) => {}
            }
        }
    }
}

impl EventSink for Recorder {
    fn activity_committed(&self, activity: &Activity) {
        self.push(Announced::Activity(activity.clone()));
    }
    fn task_committed(&self, task: &Task) {
        self.push(Announced::Task(task.clone()));
    }
    fn deliveries_committed(&self, deliveries: &[Delivery]) {
        self.push(Announced::Deliveries(deliveries.to_vec()));
    }
}

/// The id of the activity a delivery carries (`data.id` of its envelope),
/// `None` for presence and test deliveries.
fn carried_activity(d: &Delivery) -> Option<ActivityId> {
    EventType::parse(&d.event_type)?.activity()?;
    let body: serde_json::Value = serde_json::from_str(&d.payload).ok()?;
    Some(ActivityId(body["data"]["id"].as_str()?.to_owned()))
}

/// Writes one `#[tokio::test]` per contract property into the calling
/// crate, each opening its store with `$open` (an `async fn(Arc<dyn
/// EventSink>) -> Fixture`). The calling crate needs `tokio` with the
/// `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! store_contract_tests {
    ($open:expr) => {
        $crate::store_contract_tests!(@properties $open;
            ping_and_flush_answer,
            users_are_found_by_id_and_email_in_any_case,
            a_taken_email_is_refused,
            refresh_tokens_rotate_along_their_family,
            reusing_a_refresh_token_revokes_its_family,
            unknown_expired_or_revoked_refresh_tokens_are_invalid,
            portal_grants_are_redeemed_at_most_once,
            expired_or_unknown_portal_grants_are_refused,
            personal_tokens_are_limited_per_user,
            personal_tokens_are_listed_oldest_first_and_found_by_hash,
            personal_tokens_are_revoked_by_their_owner_only,
            touching_a_personal_token_records_its_use,
            activity_ids_increase_in_append_order,
            an_appended_activity_is_read_back_by_id,
            idempotency_keys_replay_or_refuse,
            bulk_appends_store_every_activity_in_order,
            activities_are_listed_newest_first_with_cursors,
            activity_lists_filter_by_type_and_time,
            scans_walk_oldest_first_resuming_after_the_last_id,
            replay_is_complete_within_the_window,
            replay_is_incomplete_when_history_was_trimmed,
            replay_is_incomplete_when_events_aged_out,
            tasks_are_created_and_read_back,
            task_updates_check_the_version,
            task_updates_store_their_activity_in_the_same_step,
            tasks_are_listed_newest_first_with_cursors_and_filters,
            webhooks_are_limited_per_owner,
            webhooks_belong_to_their_owner,
            webhooks_are_listed_oldest_first,
            updating_a_webhook_replaces_its_fields_and_bumps_the_version,
            deleting_a_webhook_removes_its_deliveries,
            rotating_a_secret_keeps_the_previous_one_until_it_expires,
            enabling_a_webhook_reactivates_it_and_resets_failures,
            active_webhooks_are_the_active_endpoints,
            appending_enqueues_matching_deliveries_atomically,
            presence_events_go_only_to_endpoints_that_list_them,
            pending_deliveries_come_in_creation_order,
            attempts_are_recorded_once_and_can_disable,
            attempts_settle_or_reschedule_their_delivery,
            a_manual_retry_starts_a_new_round,
            deliveries_are_listed_newest_first_with_cursors,
            test_deliveries_are_stored_with_their_attempt,
            hourly_counts_count_single_bulk_and_task_appends,
            hourly_counts_cover_the_hours_starting_in_the_range,
            the_sink_sees_activities_in_id_order_and_deliveries_after_them,
        );
    };
    (@properties $open:expr; $($property:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $property() {
                let subject = $crate::store::contract::Subject::open($open).await;
                $crate::store::contract::$property(subject).await;
            }
        )+
    };
}

// ----- building blocks -----

fn user_named(email: &str) -> NewUser {
    NewUser {
        email: email.to_owned(),
        full_name: Some("Ada Lovelace".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: time::now(),
    }
}

fn new_activity(user: &UserId, kind: ActivityType, at: DateTime<Utc>) -> NewActivity {
    NewActivity {
        user_id: user.clone(),
        kind,
        title: format!("{} at {}", kind.as_str(), time::format(&at)),
        message: Some("a message".into()),
        metadata: json!({"source": "contract", "n": 1}),
        link: Some("https://example.com/x".into()),
        created_at: at,
    }
}

async fn append(store: &dyn Store, activity: NewActivity) -> Activity {
    match store.append_activity(activity, None).await.unwrap() {
        AppendOutcome::Created(a) => a,
        other => panic!("a plain append answered {other:?}"),
    }
}

/// Appends one activity per kind, one minute apart from `start`.
async fn append_each(
    store: &dyn Store,
    user: &UserId,
    kinds: &[ActivityType],
    start: DateTime<Utc>,
) -> Vec<Activity> {
    let mut stored = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        stored.push(
            append(
                store,
                new_activity(user, *kind, start + Duration::minutes(i as i64)),
            )
            .await,
        );
    }
    stored
}

fn ids(activities: &[Activity]) -> Vec<ActivityId> {
    activities.iter().map(|a| a.id.clone()).collect()
}

fn same_activity(a: &Activity, b: &Activity) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

fn new_task(user: &UserId, kind: TaskKind, at: DateTime<Utc>) -> Task {
    Task {
        id: TaskId::generate(),
        user_id: user.clone(),
        kind,
        title: format!("{} task", kind.as_str()),
        status: TaskStatus::Queued,
        progress: 0,
        message: None,
        eta_seconds: Some(60),
        metadata: json!({"input": "x"}),
        created_at: at,
        updated_at: at,
        started_at: None,
        finished_at: None,
        version: 0,
    }
}

/// `task` moved to `status` at `at`, one version on.
fn moved(task: &Task, status: TaskStatus, progress: u8, at: DateTime<Utc>) -> Task {
    let mut next = task.clone();
    next.status = status;
    next.progress = progress;
    next.updated_at = at;
    if status == TaskStatus::Running && next.started_at.is_none() {
        next.started_at = Some(at);
    }
    if status.is_terminal() {
        next.finished_at = Some(at);
    }
    next.version = task.version + 1;
    next
}

fn completed_activity(task: &Task, at: DateTime<Utc>) -> NewActivity {
    NewActivity {
        user_id: task.user_id.clone(),
        kind: ActivityType::TaskCompleted,
        title: format!("{} completed", task.title),
        message: None,
        metadata: json!({"task_id": task.id.as_str(), "kind": task.kind.as_str()}),
        link: None,
        created_at: at,
    }
}

/// Stores `task`, moves it to running at `started` and to completed at
/// `finished` (with its `task_completed` activity); returns the completed
/// task and the activity the store returned.
async fn run_to_completion(
    store: &dyn Store,
    task: &Task,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> (Task, Activity) {
    store.create_task(task.clone()).await.unwrap();
    let running = moved(task, TaskStatus::Running, 10, started);
    store
        .update_task(TaskChange {
            task: running.clone(),
            expected_version: 0,
            activity: None,
        })
        .await
        .unwrap();
    let done = moved(&running, TaskStatus::Completed, 100, finished);
    let activity = store
        .update_task(TaskChange {
            activity: Some(completed_activity(&done, finished)),
            task: done.clone(),
            expected_version: 1,
        })
        .await
        .unwrap()
        .expect("the stored activity");
    (done, activity)
}

fn same_task(a: &Task, b: &Task) -> bool {
    a.version == b.version && serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

fn webhook_of(user: &UserId, events: Vec<EventType>) -> Webhook {
    let now = time::now();
    Webhook {
        id: WebhookId::generate(),
        user_id: user.clone(),
        url: "https://hooks.example.com/in".into(),
        events,
        description: Some("contract".into()),
        format: WebhookFormat::Standard,
        status: WebhookStatus::Active,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
        last_delivery_at: None,
        last_status_code: None,
        consecutive_failures: 0,
        version: 0,
    }
}

async fn create_webhook(store: &dyn Store, user: &UserId, events: Vec<EventType>) -> Webhook {
    let w = webhook_of(user, events);
    store
        .create_webhook(w.clone(), "whsec_Y29udHJhY3Q=".into(), 10)
        .await
        .unwrap();
    w
}

async fn pending(store: &dyn Store, webhook: &WebhookId) -> Vec<Delivery> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .pending_deliveries(webhook, cursor, 100)
            .await
            .unwrap();
        out.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

fn delivery_ids(deliveries: &[Delivery]) -> Vec<DeliveryId> {
    deliveries.iter().map(|d| d.id.clone()).collect()
}

fn attempt(
    n: u32,
    code: Option<u16>,
    at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
) -> DeliveryAttempt {
    DeliveryAttempt {
        attempt: n,
        attempted_at: at,
        duration_ms: 12,
        status_code: code,
        error: code.is_none().then(|| "connection refused".to_owned()),
        response_body: code.map(|c| format!("status {c}")),
        next_attempt_at: next,
    }
}

fn attempt_record(
    webhook: &WebhookId,
    delivery: &DeliveryId,
    attempt: DeliveryAttempt,
    status: DeliveryStatus,
    endpoint: EndpointUpdate,
) -> AttemptRecord {
    AttemptRecord {
        webhook_id: webhook.clone(),
        delivery_id: delivery.clone(),
        attempt,
        status,
        endpoint,
    }
}

fn failures(n: u32) -> EndpointUpdate {
    EndpointUpdate {
        consecutive_failures: Some(n),
        disable_reason: None,
    }
}

async fn all_deliveries_log(
    store: &dyn Store,
    owner: &UserId,
    webhook: &WebhookId,
) -> Vec<webhook::DeliveryLog> {
    store
        .list_deliveries(
            owner,
            webhook,
            DeliveryQuery {
                limit: 100,
                ..DeliveryQuery::default()
            },
        )
        .await
        .unwrap()
        .items
}

fn personal_token(user: &UserId, name: &str, created_at: DateTime<Utc>) -> PersonalTokenRecord {
    let id = TokenId::generate();
    PersonalTokenRecord {
        token_hash: format!("{:0>64}", id.as_str().trim_start_matches("pat_")),
        token: PersonalToken {
            id,
            name: name.to_owned(),
            scopes: vec![TokenScope::Read, TokenScope::Webhooks],
            created_at,
            expires_at: None,
            last_used_at: None,
        },
        user_id: user.clone(),
    }
}

fn refresh(
    jti: &str,
    family: &str,
    user: &UserId,
    expires_at: DateTime<Utc>,
) -> RefreshTokenRecord {
    RefreshTokenRecord {
        jti: jti.to_owned(),
        family: family.to_owned(),
        user_id: user.clone(),
        expires_at,
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, conflict: Conflict) -> bool {
    matches!(result, Err(StoreError::Conflict(c)) if c == conflict)
}

// ----- the store itself -----

/// The store answers `ping`, and `flush` returns once every write before it
/// is stored.
pub async fn ping_and_flush_answer(s: Subject) {
    s.store.ping().await.unwrap();
    let user = UserId::generate();
    let a = append(
        s.store.as_ref(),
        new_activity(&user, ActivityType::Notification, time::now()),
    )
    .await;
    s.store.flush().await.unwrap();
    assert!(s.store.activity(&a.id).await.unwrap().is_some());
}

// ----- users and what they sign in with -----

/// A new user is found by id and by e-mail compared case-insensitively,
/// with its password hash; unknown ones are `None`.
pub async fn users_are_found_by_id_and_email_in_any_case(s: Subject) {
    let new = user_named("Ada@Example.com");
    let user = s.store.create_user(new.clone()).await.unwrap();
    assert_eq!(user.email, "Ada@Example.com");
    assert_eq!(user.full_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(user.created_at, new.created_at);

    let by_id = s.store.user_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!(
        (by_id.id, by_id.email),
        (user.id.clone(), user.email.clone())
    );
    for spelling in ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"] {
        let record = s.store.user_by_email(spelling).await.unwrap().unwrap();
        assert_eq!(record.user.id, user.id, "{spelling}");
        assert_eq!(record.user.email, "Ada@Example.com");
        assert_eq!(record.password_hash, new.password_hash);
    }
    assert!(s
        .store
        .user_by_email("bob@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(s
        .store
        .user_by_id(&UserId::generate())
        .await
        .unwrap()
        .is_none());
}

/// Creating a user whose e-mail exists in any case is
/// `Conflict(EmailTaken)` and changes nothing.
pub async fn a_taken_email_is_refused(s: Subject) {
    let first = s
        .store
        .create_user(user_named("ada@example.com"))
        .await
        .unwrap();
    let mut again = user_named("ADA@example.COM");
    again.password_hash = "other".into();
    assert!(is_conflict(
        s.store.create_user(again).await,
        Conflict::EmailTaken
    ));
    let record = s
        .store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.user.id, first.id);
    assert_ne!(record.password_hash, "other");
    // Another e-mail is fine.
    s.store
        .create_user(user_named("bob@example.com"))
        .await
        .unwrap();
}

/// Rotating a live refresh token spends it and makes its successor live, in
/// the same family.
pub async fn refresh_tokens_rotate_along_their_family(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let later = now + Duration::hours(1);
    s.store
        .insert_refresh_token(refresh("r1", "fam", &user, later))
        .await
        .unwrap();
    assert_eq!(
        s.store
            .rotate_refresh_token("r1", refresh("r2", "fam", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Rotated
    );
    assert_eq!(
        s.store
            .rotate_refresh_token("r2", refresh("r3", "fam", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Rotated
    );
    // r3 is in r1's family: revoking the family ends it.
    s.store.revoke_refresh_family(&user, "fam").await.unwrap();
    assert_eq!(
        s.store
            .rotate_refresh_token("r3", refresh("r4", "fam", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Invalid
    );
}

/// Presenting a refresh token that was already used is `ReuseDetected` and
/// revokes the whole family: its live token stops working too.
pub async fn reusing_a_refresh_token_revokes_its_family(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let later = now + Duration::hours(1);
    s.store
        .insert_refresh_token(refresh("a1", "fa", &user, later))
        .await
        .unwrap();
    s.store
        .insert_refresh_token(refresh("b1", "fb", &user, later))
        .await
        .unwrap();
    assert_eq!(
        s.store
            .rotate_refresh_token("a1", refresh("a2", "fa", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Rotated
    );
    assert_eq!(
        s.store
            .rotate_refresh_token("a1", refresh("a3", "fa", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::ReuseDetected
    );
    assert_eq!(
        s.store
            .rotate_refresh_token("a2", refresh("a4", "fa", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Invalid,
        "the live token of a revoked family"
    );
    assert_eq!(
        s.store
            .rotate_refresh_token("a3", refresh("a5", "fa", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Invalid,
        "the reused rotation stored nothing"
    );
    // Another family is untouched.
    assert_eq!(
        s.store
            .rotate_refresh_token("b1", refresh("b2", "fb", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Rotated
    );
}

/// An unknown or expired refresh token, or one of a revoked family, is
/// `Invalid`.
pub async fn unknown_expired_or_revoked_refresh_tokens_are_invalid(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let later = now + Duration::hours(1);
    assert_eq!(
        s.store
            .rotate_refresh_token("nope", refresh("n2", "fn", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Invalid
    );
    s.store
        .insert_refresh_token(refresh("e1", "fe", &user, later))
        .await
        .unwrap();
    assert_eq!(
        s.store
            .rotate_refresh_token(
                "e1",
                refresh("e2", "fe", &user, later),
                later + Duration::seconds(1)
            )
            .await
            .unwrap(),
        RotateOutcome::Invalid,
        "expired"
    );
    s.store
        .insert_refresh_token(refresh("v1", "fv", &user, later))
        .await
        .unwrap();
    s.store.revoke_refresh_family(&user, "fv").await.unwrap();
    assert_eq!(
        s.store
            .rotate_refresh_token("v1", refresh("v2", "fv", &user, later), now)
            .await
            .unwrap(),
        RotateOutcome::Invalid,
        "revoked family"
    );
}

/// A portal grant is handed out once: the first redeemer gets it, every
/// other caller (even concurrent ones) gets `None`.
pub async fn portal_grants_are_redeemed_at_most_once(s: Subject) {
    let now = time::now();
    let grant = PortalGrant {
        token_hash: "a".repeat(64),
        user_id: UserId::generate(),
        read_only: true,
        expires_at: now + Duration::minutes(10),
    };
    s.store.create_portal_grant(grant.clone()).await.unwrap();
    assert_eq!(
        s.store
            .redeem_portal_grant(&grant.token_hash, now)
            .await
            .unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        s.store
            .redeem_portal_grant(&grant.token_hash, now)
            .await
            .unwrap(),
        None
    );

    let contested = PortalGrant {
        token_hash: "b".repeat(64),
        read_only: false,
        ..grant
    };
    s.store
        .create_portal_grant(contested.clone())
        .await
        .unwrap();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = s.store.clone();
            let hash = contested.token_hash.clone();
            tokio::spawn(async move { store.redeem_portal_grant(&hash, now).await.unwrap() })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        winners.extend(racer.await.unwrap());
    }
    assert_eq!(winners, vec![contested]);
}

/// A portal grant that expired before `now`, or that never existed, is
/// `None`.
pub async fn expired_or_unknown_portal_grants_are_refused(s: Subject) {
    let now = time::now();
    let grant = PortalGrant {
        token_hash: "c".repeat(64),
        user_id: UserId::generate(),
        read_only: false,
        expires_at: now + Duration::minutes(10),
    };
    s.store.create_portal_grant(grant.clone()).await.unwrap();
    assert_eq!(
        s.store
            .redeem_portal_grant(&grant.token_hash, grant.expires_at + Duration::seconds(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.store
            .redeem_portal_grant(&"d".repeat(64), now)
            .await
            .unwrap(),
        None
    );
}

/// A user's personal tokens stop at `max_per_user` (`Conflict::TokenLimit`,
/// nothing stored); other users are not affected, and revoking frees a slot.
pub async fn personal_tokens_are_limited_per_user(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let first = personal_token(&ada, "one", now);
    s.store
        .create_personal_token(first.clone(), 2)
        .await
        .unwrap();
    s.store
        .create_personal_token(personal_token(&ada, "two", now + Duration::seconds(1)), 2)
        .await
        .unwrap();
    let third = personal_token(&ada, "three", now + Duration::seconds(2));
    assert!(is_conflict(
        s.store.create_personal_token(third.clone(), 2).await,
        Conflict::TokenLimit
    ));
    assert!(s
        .store
        .personal_token_by_hash(&third.token_hash)
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.store.list_personal_tokens(&ada).await.unwrap().len(), 2);
    s.store
        .create_personal_token(personal_token(&bob, "bob's", now), 2)
        .await
        .unwrap();
    assert!(s
        .store
        .revoke_personal_token(&ada, &first.token.id)
        .await
        .unwrap());
    s.store.create_personal_token(third, 2).await.unwrap();
}

/// A user's personal tokens are listed oldest first; one is found by the
/// hash of its secret (expired or not) with its owner; an unknown hash is
/// `None`.
pub async fn personal_tokens_are_listed_oldest_first_and_found_by_hash(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let mut made = Vec::new();
    for (i, name) in ["first", "second", "third"].into_iter().enumerate() {
        let mut record = personal_token(&ada, name, now + Duration::seconds(i as i64));
        if i == 1 {
            record.token.expires_at = Some(now - Duration::days(1));
        }
        s.store
            .create_personal_token(record.clone(), 10)
            .await
            .unwrap();
        made.push(record);
    }
    s.store
        .create_personal_token(personal_token(&bob, "bob's", now), 10)
        .await
        .unwrap();
    let listed = s.store.list_personal_tokens(&ada).await.unwrap();
    assert_eq!(
        listed,
        made.iter().map(|r| r.token.clone()).collect::<Vec<_>>()
    );
    for record in &made {
        assert_eq!(
            s.store
                .personal_token_by_hash(&record.token_hash)
                .await
                .unwrap()
                .as_ref(),
            Some(record)
        );
    }
    assert!(s
        .store
        .personal_token_by_hash(&"f".repeat(64))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .store
        .list_personal_tokens(&UserId::generate())
        .await
        .unwrap()
        .is_empty());
}

/// Revoking deletes one of the user's own tokens (true once); another
/// user's token or an unknown id is `false` and stays.
pub async fn personal_tokens_are_revoked_by_their_owner_only(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let token = personal_token(&ada, "ada's", now);
    let kept = personal_token(&ada, "kept", now + Duration::seconds(1));
    s.store
        .create_personal_token(token.clone(), 10)
        .await
        .unwrap();
    s.store
        .create_personal_token(kept.clone(), 10)
        .await
        .unwrap();
    assert!(!s
        .store
        .revoke_personal_token(&bob, &token.token.id)
        .await
        .unwrap());
    assert!(s
        .store
        .personal_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .is_some());
    assert!(!s
        .store
        .revoke_personal_token(&ada, &TokenId::generate())
        .await
        .unwrap());
    assert!(s
        .store
        .revoke_personal_token(&ada, &token.token.id)
        .await
        .unwrap());
    assert!(!s
        .store
        .revoke_personal_token(&ada, &token.token.id)
        .await
        .unwrap());
    assert!(s
        .store
        .personal_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.store.list_personal_tokens(&ada).await.unwrap(),
        vec![kept.token]
    );
}

/// Touching a token records its last use; touching a revoked one leaves it
/// revoked.
pub async fn touching_a_personal_token_records_its_use(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let token = personal_token(&user, "used", now);
    s.store
        .create_personal_token(token.clone(), 10)
        .await
        .unwrap();
    let used_at = now + Duration::minutes(3);
    s.store
        .touch_personal_token(&user, &token.token.id, used_at)
        .await
        .unwrap();
    let found = s
        .store
        .personal_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.token.last_used_at, Some(used_at));
    assert_eq!(
        s.store.list_personal_tokens(&user).await.unwrap()[0].last_used_at,
        Some(used_at)
    );

    assert!(s
        .store
        .revoke_personal_token(&user, &token.token.id)
        .await
        .unwrap());
    s.store
        .touch_personal_token(&user, &token.token.id, used_at + Duration::minutes(1))
        .await
        .unwrap();
    assert!(s
        .store
        .personal_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .store
        .list_personal_tokens(&user)
        .await
        .unwrap()
        .is_empty());
    // A token that never existed: nothing happens, nothing fails.
    s.store
        .touch_personal_token(&user, &TokenId::generate(), used_at)
        .await
        .unwrap();
}

// ----- activities and history -----

/// Activity ids increase in append order, whichever call stored them
/// (single, bulk, the activity of a task update), for every user.
pub async fn activity_ids_increase_in_append_order(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let store = s.store.as_ref();
    let mut stored =
        vec![append(store, new_activity(&ada, ActivityType::ProspectAdded, now)).await];
    stored.push(append(store, new_activity(&bob, ActivityType::ProspectAdded, now)).await);
    stored.extend(
        store
            .append_activities(vec![
                new_activity(&ada, ActivityType::OutreachSent, now),
                new_activity(&bob, ActivityType::OutreachSent, now),
                new_activity(&ada, ActivityType::MeetingBooked, now),
            ])
            .await
            .unwrap(),
    );
    let task = new_task(&ada, TaskKind::Outreach, now);
    stored.push(run_to_completion(store, &task, now, now).await.1);
    stored.push(append(store, new_activity(&ada, ActivityType::Notification, now)).await);
    for user in [&ada, &bob] {
        let mine: Vec<_> = stored.iter().filter(|a| a.user_id == *user).collect();
        for pair in mine.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} then {}",
                pair[0].id,
                pair[1].id
            );
        }
    }
    assert!(
        stored.iter().all(|a| a.id.seq().is_some()),
        "ids are issued by the store"
    );
}

/// An appended activity is stored as given and read back by id, whoever
/// owns it; an unknown or malformed id is `None`.
pub async fn an_appended_activity_is_read_back_by_id(s: Subject) {
    let user = UserId::generate();
    let new = new_activity(&user, ActivityType::ResearchCompleted, time::now());
    let stored = append(s.store.as_ref(), new.clone()).await;
    assert_eq!(stored.user_id, user);
    assert_eq!(stored.kind, new.kind);
    assert_eq!(stored.title, new.title);
    assert_eq!(stored.message, new.message);
    assert_eq!(stored.metadata, new.metadata);
    assert_eq!(stored.link, new.link);
    assert_eq!(stored.created_at, new.created_at);
    let read = s.store.activity(&stored.id).await.unwrap().unwrap();
    assert!(same_activity(&read, &stored), "{read:?} vs {stored:?}");
    let unknown = ActivityId::from_seq(stored.id.seq().unwrap() + 1_000_000);
    assert!(s.store.activity(&unknown).await.unwrap().is_none());
    assert!(s
        .store
        .activity(&ActivityId("not-an-id".into()))
        .await
        .unwrap()
        .is_none());
}

/// The same idempotency key with the same body replays the earlier activity
/// (nothing new stored or announced); with another body it is `KeyReused`.
/// Keys are per user.
pub async fn idempotency_keys_replay_or_refuse(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let key = |fingerprint: &str| IdempotencyKey {
        key: "k-1".into(),
        fingerprint: fingerprint.into(),
    };
    let new = new_activity(&ada, ActivityType::OutreachSent, time::now());
    let first = match s
        .store
        .append_activity(new.clone(), Some(key("body-a")))
        .await
        .unwrap()
    {
        AppendOutcome::Created(a) => a,
        other => panic!("first use of a key answered {other:?}"),
    };
    match s
        .store
        .append_activity(new.clone(), Some(key("body-a")))
        .await
        .unwrap()
    {
        AppendOutcome::Replayed(a) => assert!(same_activity(&a, &first)),
        other => panic!("a retried append answered {other:?}"),
    }
    assert!(matches!(
        s.store
            .append_activity(new.clone(), Some(key("body-b")))
            .await
            .unwrap(),
        AppendOutcome::KeyReused
    ));
    let listed = s
        .store
        .list_activities(
            &ada,
            ActivityQuery {
                limit: 10,
                ..ActivityQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&listed.items), vec![first.id.clone()]);
    assert_eq!(
        ids(&s.sink.activities()),
        vec![first.id.clone()],
        "replays are not announced"
    );
    // Bob's key of the same name is his own.
    let bobs = NewActivity {
        user_id: bob.clone(),
        ..new
    };
    assert!(matches!(
        s.store
            .append_activity(bobs, Some(key("body-b")))
            .await
            .unwrap(),
        AppendOutcome::Created(_)
    ));
}

/// A bulk append stores every activity, of any users, in the order given,
/// and returns them with their ids; an empty batch stores nothing.
pub async fn bulk_appends_store_every_activity_in_order(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let batch = vec![
        new_activity(&ada, ActivityType::ProspectAdded, now),
        new_activity(
            &bob,
            ActivityType::ContentPublished,
            now + Duration::seconds(1),
        ),
        new_activity(
            &ada,
            ActivityType::MeetingBooked,
            now + Duration::seconds(2),
        ),
    ];
    let stored = s.store.append_activities(batch.clone()).await.unwrap();
    assert_eq!(stored.len(), 3);
    for (new, a) in batch.iter().zip(&stored) {
        assert_eq!(
            (&a.user_id, a.kind, &a.title),
            (&new.user_id, new.kind, &new.title)
        );
        let read = s.store.activity(&a.id).await.unwrap().unwrap();
        assert!(same_activity(&read, a));
    }
    assert!(stored[0].id < stored[2].id);
    let adas = s
        .store
        .list_activities(
            &ada,
            ActivityQuery {
                limit: 10,
                ..ActivityQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&adas.items),
        vec![stored[2].id.clone(), stored[0].id.clone()]
    );
    assert!(s
        .store
        .append_activities(Vec::new())
        .await
        .unwrap()
        .is_empty());
}

/// A user's activities are listed newest first, one page of `limit` at a
/// time; each page's cursor (`before`) continues where it stopped, until a
/// page without one. Other users' activities never appear.
pub async fn activities_are_listed_newest_first_with_cursors(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let store = s.store.as_ref();
    let mut stored = Vec::new();
    for i in 0..7 {
        stored.push(
            append(
                store,
                new_activity(
                    &ada,
                    ActivityType::ALL[i % 8],
                    now + Duration::seconds(i as i64),
                ),
            )
            .await,
        );
        append(store, new_activity(&bob, ActivityType::ProspectAdded, now)).await;
    }
    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_activities(
                &ada,
                ActivityQuery {
                    before,
                    limit: 3,
                    ..ActivityQuery::default()
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 3);
        if pages == 0 {
            assert_eq!(page.items.len(), 3, "a first page is full");
        }
        pages += 1;
        assert!(pages <= 4, "the cursor must come to an end");
        seen.extend(page.items);
        match page.next_cursor {
            Some(cursor) => before = Some(ActivityId(cursor)),
            None => break,
        }
    }
    let mut newest_first = ids(&stored);
    newest_first.reverse();
    assert_eq!(ids(&seen), newest_first);
    assert!(store
        .list_activities(
            &UserId::generate(),
            ActivityQuery {
                limit: 3,
                ..ActivityQuery::default()
            }
        )
        .await
        .unwrap()
        .items
        .is_empty());
}

/// The activity list filters by type and by `created_at` (`since`
/// inclusive, `until` exclusive), still newest first and paginated.
pub async fn activity_lists_filter_by_type_and_time(s: Subject) {
    let user = UserId::generate();
    let start = time::now() - Duration::hours(1);
    use ActivityType::{MeetingBooked as M, OutreachSent as O};
    // Minute i holds kinds[i].
    let kinds = [O, M, O, O, M, O, O];
    let stored = append_each(s.store.as_ref(), &user, &kinds, start).await;
    let list = |query: ActivityQuery| {
        let store = s.store.clone();
        let user = user.clone();
        async move { store.list_activities(&user, query).await.unwrap() }
    };
    let meetings = list(ActivityQuery {
        kind: Some(M),
        limit: 10,
        ..ActivityQuery::default()
    })
    .await;
    assert_eq!(
        ids(&meetings.items),
        vec![stored[4].id.clone(), stored[1].id.clone()]
    );

    let window = ActivityQuery {
        since: Some(start + Duration::minutes(2)),
        until: Some(start + Duration::minutes(6)),
        limit: 10,
        ..ActivityQuery::default()
    };
    let timed = list(window.clone()).await;
    assert_eq!(
        ids(&timed.items),
        vec![
            stored[5].id.clone(),
            stored[4].id.clone(),
            stored[3].id.clone(),
            stored[2].id.clone()
        ]
    );

    let first = list(ActivityQuery {
        kind: Some(O),
        limit: 2,
        ..window.clone()
    })
    .await;
    assert_eq!(
        ids(&first.items),
        vec![stored[5].id.clone(), stored[3].id.clone()]
    );
    let cursor = first.next_cursor.expect("a second page of outreach");
    let second = list(ActivityQuery {
        kind: Some(O),
        limit: 2,
        before: Some(ActivityId(cursor)),
        ..window
    })
    .await;
    assert_eq!(ids(&second.items), vec![stored[2].id.clone()]);
    assert!(second.next_cursor.is_none());
}

/// A scan walks one user's activities oldest first, filtered by types and
/// time, one page of `limit` per call, resuming after the last id seen.
pub async fn scans_walk_oldest_first_resuming_after_the_last_id(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let start = time::now() - Duration::hours(1);
    use ActivityType::{MeetingBooked as M, Notification as N, OutreachSent as O};
    let stored = append_each(s.store.as_ref(), &ada, &[O, N, M, O, N, O, M], start).await;
    append_each(s.store.as_ref(), &bob, &[O, M], start).await;

    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .store
            .scan_activities(
                &ada,
                ActivityScan {
                    after: after.clone(),
                    limit: 3,
                    ..ActivityScan::default()
                },
            )
            .await
            .unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        walked.extend(page);
    }
    assert_eq!(ids(&walked), ids(&stored));

    let filtered = s
        .store
        .scan_activities(
            &ada,
            ActivityScan {
                kinds: vec![O, M],
                since: Some(start + Duration::minutes(1)),
                until: Some(start + Duration::minutes(6)),
                after: Some(stored[2].id.clone()),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&filtered),
        vec![stored[3].id.clone(), stored[5].id.clone()]
    );
    let limited = s
        .store
        .scan_activities(
            &ada,
            ActivityScan {
                kinds: vec![M],
                limit: 1,
                ..ActivityScan::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&limited), vec![stored[2].id.clone()]);
}

/// After an id the history still holds, a replay returns every later event
/// of the user, oldest first, and is complete; after the newest it is empty
/// and complete.
pub async fn replay_is_complete_within_the_window(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let store = s.store.as_ref();
    let a1 = append(store, new_activity(&ada, ActivityType::ProspectAdded, now)).await;
    append(store, new_activity(&bob, ActivityType::ProspectAdded, now)).await;
    let a2 = append(store, new_activity(&ada, ActivityType::OutreachSent, now)).await;
    append(store, new_activity(&bob, ActivityType::ProspectAdded, now)).await;
    let a3 = append(store, new_activity(&ada, ActivityType::MeetingBooked, now)).await;

    let replay = store
        .replay_after(&ada, &a1.id, history_window(), now)
        .await
        .unwrap();
    assert_eq!(ids(&replay.events), vec![a2.id.clone(), a3.id.clone()]);
    assert!(replay.complete);
    assert!(same_activity(&replay.events[1], &a3));

    let replay = store
        .replay_after(&ada, &a3.id, history_window(), now)
        .await
        .unwrap();
    assert!(replay.events.is_empty());
    assert!(replay.complete);

    let replay = store
        .replay_after(&ada, &ActivityId::from_seq(0), history_window(), now)
        .await
        .unwrap();
    assert_eq!(ids(&replay.events), vec![a1.id, a2.id, a3.id]);
    assert!(replay.complete, "everything since the start is still held");
}

/// When more events than the history holds came after the id, a replay
/// returns the newest ones it holds and says it is incomplete.
pub async fn replay_is_incomplete_when_history_was_trimmed(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let kinds = [ActivityType::OutreachSent; HISTORY_EVENTS + 3];
    let stored = append_each(s.store.as_ref(), &user, &kinds, now - Duration::minutes(10)).await;
    let held = ids(&stored[3..]);

    for after in [
        ActivityId::from_seq(0),
        stored[0].id.clone(),
        stored[1].id.clone(),
    ] {
        let replay = s
            .store
            .replay_after(&user, &after, history_window(), now)
            .await
            .unwrap();
        assert_eq!(ids(&replay.events), held, "after {after}");
        assert!(!replay.complete, "after {after}: events are missing");
    }
    let replay = s
        .store
        .replay_after(&user, &stored[2].id, history_window(), now)
        .await
        .unwrap();
    assert_eq!(ids(&replay.events), held);
    assert!(replay.complete, "the oldest held event is the next one");
    let replay = s
        .store
        .replay_after(&user, &stored[5].id, history_window(), now)
        .await
        .unwrap();
    assert_eq!(ids(&replay.events), ids(&stored[6..]));
    assert!(replay.complete);
}

/// Events older than the window's age are not replayed; a replay that had
/// to leave one out is incomplete.
pub async fn replay_is_incomplete_when_events_aged_out(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let store = s.store.as_ref();
    let old = now - Duration::hours(2);
    let a1 = append(store, new_activity(&user, ActivityType::ProspectAdded, old)).await;
    let a2 = append(store, new_activity(&user, ActivityType::OutreachSent, old)).await;
    let a3 = append(store, new_activity(&user, ActivityType::MeetingBooked, now)).await;

    let replay = store
        .replay_after(&user, &a1.id, history_window(), now)
        .await
        .unwrap();
    assert_eq!(ids(&replay.events), vec![a3.id.clone()]);
    assert!(!replay.complete, "a2 aged out");
    let replay = store
        .replay_after(&user, &a2.id, history_window(), now)
        .await
        .unwrap();
    assert_eq!(ids(&replay.events), vec![a3.id.clone()]);
    assert!(replay.complete);
    let replay = store
        .replay_after(&user, &a2.id, history_window(), now + Duration::hours(2))
        .await
        .unwrap();
    assert!(replay.events.is_empty());
    assert!(!replay.complete, "a3 aged out too");
}

// ----- tasks -----

/// A created task is read back as given (with its version), whoever owns
/// it, and announced; an unknown id is `None`.
pub async fn tasks_are_created_and_read_back(s: Subject) {
    let user = UserId::generate();
    let task = new_task(&user, TaskKind::Research, time::now());
    s.store.create_task(task.clone()).await.unwrap();
    let read = s.store.task(&task.id).await.unwrap().unwrap();
    assert!(same_task(&read, &task), "{read:?} vs {task:?}");
    assert!(s.store.task(&TaskId::generate()).await.unwrap().is_none());
    let announced = s.sink.tasks();
    assert_eq!(announced.len(), 1);
    assert!(same_task(&announced[0], &task));
}

/// A task change is saved only if the stored version is the expected one;
/// otherwise it is `Conflict(TaskChanged)` and nothing changes (an unknown
/// task has no version to match).
pub async fn task_updates_check_the_version(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let task = new_task(&user, TaskKind::Content, now);
    s.store.create_task(task.clone()).await.unwrap();
    let running = moved(&task, TaskStatus::Running, 30, now + Duration::seconds(1));
    assert!(s
        .store
        .update_task(TaskChange {
            task: running.clone(),
            expected_version: 0,
            activity: None
        })
        .await
        .unwrap()
        .is_none());
    let read = s.store.task(&task.id).await.unwrap().unwrap();
    assert!(same_task(&read, &running));

    // Computed from the old version: refused, with its activity.
    let stale = moved(&task, TaskStatus::Cancelled, 0, now + Duration::seconds(2));
    let result = s
        .store
        .update_task(TaskChange {
            activity: Some(completed_activity(&stale, now)),
            task: stale,
            expected_version: 0,
        })
        .await;
    assert!(is_conflict(result, Conflict::TaskChanged));
    assert!(same_task(
        &s.store.task(&task.id).await.unwrap().unwrap(),
        &running
    ));
    assert!(s
        .store
        .list_activities(
            &user,
            ActivityQuery {
                limit: 10,
                ..ActivityQuery::default()
            }
        )
        .await
        .unwrap()
        .items
        .is_empty());

    let ghost = moved(
        &new_task(&user, TaskKind::Content, now),
        TaskStatus::Running,
        1,
        now,
    );
    let result = s
        .store
        .update_task(TaskChange {
            task: ghost,
            expected_version: 0,
            activity: None,
        })
        .await;
    assert!(is_conflict(result, Conflict::TaskChanged));
}

/// The activity of a task change (`task_completed`) is stored in the same
/// step: returned, listed, and announced after the task.
pub async fn task_updates_store_their_activity_in_the_same_step(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let hook = create_webhook(s.store.as_ref(), &user, vec![EventType::TaskCompleted]).await;
    let task = new_task(&user, TaskKind::Research, now);
    let (done, activity) =
        run_to_completion(s.store.as_ref(), &task, now, now + Duration::seconds(5)).await;
    assert_eq!(activity.kind, ActivityType::TaskCompleted);
    assert_eq!(activity.metadata["task_id"], task.id.as_str());
    assert!(same_task(
        &s.store.task(&task.id).await.unwrap().unwrap(),
        &done
    ));
    let listed = s
        .store
        .list_activities(
            &user,
            ActivityQuery {
                limit: 10,
                ..ActivityQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&listed.items), vec![activity.id.clone()]);
    let queued = pending(s.store.as_ref(), &hook.id).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(carried_activity(&queued[0]), Some(activity.id.clone()));

    let log = s.sink.log();
    let positions: Vec<&str> = log
        .iter()
        .skip(2) // the creation and the first update
        .map(|a| match a {
            Announced::Task(_) => "task",
            Announced::Activity(_) => "activity",
            Announced::Deliveries(_) => "deliveries",
        })
        .collect();
    assert_eq!(positions, ["task", "activity", "deliveries"]);
    s.sink.assert_in_order();
}

/// A user's tasks are listed newest first, filtered by status and kind, one
/// page at a time with cursors that continue where the page stopped.
pub async fn tasks_are_listed_newest_first_with_cursors_and_filters(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let kinds = [
        TaskKind::Research,
        TaskKind::Outreach,
        TaskKind::Research,
        TaskKind::Content,
        TaskKind::Research,
    ];
    let mut made = Vec::new();
    for (i, kind) in kinds.into_iter().enumerate() {
        let task = new_task(&ada, kind, now + Duration::seconds(i as i64));
        s.store.create_task(task.clone()).await.unwrap();
        made.push(task);
        s.store
            .create_task(new_task(&bob, kind, now))
            .await
            .unwrap();
    }
    let running = moved(&made[2], TaskStatus::Running, 5, now);
    s.store
        .update_task(TaskChange {
            task: running,
            expected_version: 0,
            activity: None,
        })
        .await
        .unwrap();

    let list = |query: TaskQuery| {
        let store = s.store.clone();
        let ada = ada.clone();
        async move { store.list_tasks(&ada, query).await.unwrap() }
    };
    let task_ids = |tasks: &[Task]| tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = list(TaskQuery {
            cursor,
            limit: 2,
            ..TaskQuery::default()
        })
        .await;
        assert!(page.items.len() <= 2);
        assert!(seen.len() <= made.len(), "the cursor must come to an end");
        seen.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut newest_first = task_ids(&made);
    newest_first.reverse();
    assert_eq!(task_ids(&seen), newest_first);

    let research = list(TaskQuery {
        kind: Some(TaskKind::Research),
        limit: 10,
        ..TaskQuery::default()
    })
    .await;
    assert_eq!(
        task_ids(&research.items),
        vec![made[4].id.clone(), made[2].id.clone(), made[0].id.clone()]
    );
    let running = list(TaskQuery {
        status: Some(TaskStatus::Running),
        limit: 10,
        ..TaskQuery::default()
    })
    .await;
    assert_eq!(task_ids(&running.items), vec![made[2].id.clone()]);
    let queued_research = list(TaskQuery {
        status: Some(TaskStatus::Queued),
        kind: Some(TaskKind::Research),
        limit: 1,
        cursor: None,
    })
    .await;
    assert_eq!(task_ids(&queued_research.items), vec![made[4].id.clone()]);
    let rest = list(TaskQuery {
        status: Some(TaskStatus::Queued),
        kind: Some(TaskKind::Research),
        limit: 1,
        cursor: queued_research.next_cursor,
    })
    .await;
    assert_eq!(task_ids(&rest.items), vec![made[0].id.clone()]);
}

// ----- webhooks, as their owner manages them -----

/// An owner's webhooks stop at `max_per_user` (`Conflict(WebhookLimit)`,
/// nothing stored); other owners are not affected, and deleting frees a slot.
pub async fn webhooks_are_limited_per_owner(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let first = webhook_of(&ada, vec![]);
    s.store
        .create_webhook(first.clone(), "whsec_a".into(), 2)
        .await
        .unwrap();
    s.store
        .create_webhook(webhook_of(&ada, vec![]), "whsec_b".into(), 2)
        .await
        .unwrap();
    let third = webhook_of(&ada, vec![]);
    assert!(is_conflict(
        s.store
            .create_webhook(third.clone(), "whsec_c".into(), 2)
            .await,
        Conflict::WebhookLimit
    ));
    assert!(s.store.webhook_record(&third.id).await.unwrap().is_none());
    assert_eq!(s.store.list_webhooks(&ada).await.unwrap().len(), 2);
    s.store
        .create_webhook(webhook_of(&bob, vec![]), "whsec_d".into(), 2)
        .await
        .unwrap();
    assert!(s.store.delete_webhook(&ada, &first.id).await.unwrap());
    s.store
        .create_webhook(third, "whsec_c".into(), 2)
        .await
        .unwrap();
}

/// An endpoint is visible and changeable only by its owner: for anyone else
/// every owner call is `None`, `false` or empty and changes nothing. The
/// delivery actors' `webhook_record` finds it whoever owns it; an unknown
/// id is `None` everywhere.
pub async fn webhooks_belong_to_their_owner(s: Subject) {
    let (ada, eve) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &ada, vec![]).await;
    append(store, new_activity(&ada, ActivityType::ProspectAdded, now)).await;
    let delivery = pending(store, &hook.id).await.remove(0);

    let shown = store.webhook(&ada, &hook.id).await.unwrap().unwrap();
    assert_eq!(
        (shown.url.as_str(), shown.user_id.clone()),
        (hook.url.as_str(), ada.clone())
    );
    assert_eq!(shown.status, WebhookStatus::Active);
    assert_eq!(shown.events, hook.events);
    assert_eq!(shown.description, hook.description);
    assert_eq!(shown.format, hook.format);
    assert_eq!(shown.consecutive_failures, 0);
    let secrets = store
        .webhook_secrets(&ada, &hook.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secrets.current, "whsec_Y29udHJhY3Q=");
    assert_eq!(secrets.previous, None);
    let record = store.webhook_record(&hook.id).await.unwrap().unwrap();
    assert_eq!(record.webhook.user_id, ada);
    assert!(record.secrets == secrets);

    let change = WebhookChange {
        url: "https://evil.example.com".into(),
        events: vec![],
        description: None,
        format: WebhookFormat::Slack,
        updated_at: now,
    };
    assert!(store.webhook(&eve, &hook.id).await.unwrap().is_none());
    assert!(store
        .webhook_secrets(&eve, &hook.id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .update_webhook(&eve, &hook.id, change.clone())
        .await
        .unwrap()
        .is_none());
    assert!(store
        .rotate_webhook_secret(&eve, &hook.id, "whsec_evil".into(), now, now)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .enable_webhook(&eve, &hook.id, now)
        .await
        .unwrap()
        .is_none());
    assert!(all_deliveries_log(store, &eve, &hook.id).await.is_empty());
    assert!(store
        .retry_delivery(&eve, &hook.id, &delivery.id, now)
        .await
        .unwrap()
        .is_none());
    assert!(!store.delete_webhook(&eve, &hook.id).await.unwrap());
    assert!(store.list_webhooks(&eve).await.unwrap().is_empty());

    let unchanged = store.webhook_record(&hook.id).await.unwrap().unwrap();
    assert_eq!(unchanged.webhook.url, hook.url);
    assert_eq!(unchanged.webhook.version, hook.version);
    assert_eq!(unchanged.secrets.current, "whsec_Y29udHJhY3Q=");
    assert_eq!(all_deliveries_log(store, &ada, &hook.id).await.len(), 1);

    let ghost = WebhookId::generate();
    assert!(store.webhook(&ada, &ghost).await.unwrap().is_none());
    assert!(store.webhook_record(&ghost).await.unwrap().is_none());
    assert!(store
        .update_webhook(&ada, &ghost, change)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .enable_webhook(&ada, &ghost, now)
        .await
        .unwrap()
        .is_none());
    assert!(!store.delete_webhook(&ada, &ghost).await.unwrap());
}

/// An owner's endpoints are listed oldest first.
pub async fn webhooks_are_listed_oldest_first(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let mut made = Vec::new();
    for _ in 0..4 {
        made.push(create_webhook(s.store.as_ref(), &ada, vec![]).await.id);
        create_webhook(s.store.as_ref(), &bob, vec![]).await;
    }
    let listed: Vec<_> = s
        .store
        .list_webhooks(&ada)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, made);
}

/// An update replaces the editable fields and bumps the version; the new
/// event list decides which later activities are delivered.
pub async fn updating_a_webhook_replaces_its_fields_and_bumps_the_version(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    let change = WebhookChange {
        url: "https://hooks.example.com/other".into(),
        events: vec![EventType::MeetingBooked, EventType::PresenceOnline],
        description: None,
        format: WebhookFormat::Discord,
        updated_at: now + Duration::seconds(5),
    };
    let updated = store
        .update_webhook(&user, &hook.id, change.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.url, change.url);
    assert_eq!(updated.events, change.events);
    assert_eq!(updated.description, None);
    assert_eq!(updated.format, WebhookFormat::Discord);
    assert_eq!(updated.updated_at, change.updated_at);
    assert_eq!(updated.version, hook.version + 1);
    assert_eq!(updated.status, WebhookStatus::Active);
    let again = store
        .update_webhook(&user, &hook.id, change)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.version, hook.version + 2);
    assert_eq!(
        store
            .webhook_record(&hook.id)
            .await
            .unwrap()
            .unwrap()
            .webhook
            .version,
        again.version
    );
    let secrets = store
        .webhook_secrets(&user, &hook.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        secrets.current, "whsec_Y29udHJhY3Q=",
        "an update keeps the secret"
    );

    append(store, new_activity(&user, ActivityType::OutreachSent, now)).await;
    assert!(
        pending(store, &hook.id).await.is_empty(),
        "no longer subscribed"
    );
    let meeting = append(store, new_activity(&user, ActivityType::MeetingBooked, now)).await;
    let queued = pending(store, &hook.id).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(carried_activity(&queued[0]), Some(meeting.id));
}

/// Deleting an endpoint removes it with its deliveries and their attempts:
/// nothing is pending or logged, later activities make none, and a late
/// attempt record changes nothing.
pub async fn deleting_a_webhook_removes_its_deliveries(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    let kept = create_webhook(store, &user, vec![]).await;
    append(store, new_activity(&user, ActivityType::ProspectAdded, now)).await;
    append(store, new_activity(&user, ActivityType::OutreachSent, now)).await;
    let first = pending(store, &hook.id).await.remove(0);
    store
        .record_attempt(attempt_record(
            &hook.id,
            &first.id,
            attempt(1, Some(500), now, Some(now)),
            DeliveryStatus::Pending,
            failures(1),
        ))
        .await
        .unwrap();

    assert!(store.delete_webhook(&user, &hook.id).await.unwrap());
    assert!(!store.delete_webhook(&user, &hook.id).await.unwrap());
    assert!(store.webhook(&user, &hook.id).await.unwrap().is_none());
    assert!(store.webhook_record(&hook.id).await.unwrap().is_none());
    assert!(pending(store, &hook.id).await.is_empty());
    assert!(all_deliveries_log(store, &user, &hook.id).await.is_empty());
    assert!(store
        .active_webhooks()
        .await
        .unwrap()
        .iter()
        .all(|r| r.webhook.id != hook.id));
    let listed: Vec<_> = store
        .list_webhooks(&user)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, vec![kept.id.clone()]);

    store
        .record_attempt(attempt_record(
            &hook.id,
            &first.id,
            attempt(2, Some(200), now, None),
            DeliveryStatus::Succeeded,
            failures(0),
        ))
        .await
        .unwrap();
    assert!(store.webhook_record(&hook.id).await.unwrap().is_none());
    append(store, new_activity(&user, ActivityType::MeetingBooked, now)).await;
    assert!(pending(store, &hook.id).await.is_empty());
    assert_eq!(
        pending(store, &kept.id).await.len(),
        3,
        "the other endpoint keeps its own"
    );
}

/// Rotating makes the new secret current and keeps the old one as the
/// previous until `previous_expires_at`; it bumps the version.
pub async fn rotating_a_secret_keeps_the_previous_one_until_it_expires(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let store = s.store.as_ref();
    let hook = webhook_of(&user, vec![]);
    store
        .create_webhook(hook.clone(), "whsec_old".into(), 10)
        .await
        .unwrap();
    let until = now + Duration::hours(24);
    let secrets = store
        .rotate_webhook_secret(&user, &hook.id, "whsec_new".into(), until, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secrets.current, "whsec_new");
    assert_eq!(secrets.previous.as_deref(), Some("whsec_old"));
    assert_eq!(secrets.previous_expires_at, Some(until));
    assert_eq!(secrets.signing_at(now), vec!["whsec_new", "whsec_old"]);
    assert_eq!(secrets.signing_at(until), vec!["whsec_new"]);
    let record = store.webhook_record(&hook.id).await.unwrap().unwrap();
    assert!(record.secrets == secrets);
    assert_eq!(record.webhook.version, hook.version + 1);
    assert!(
        store
            .webhook_secrets(&user, &hook.id)
            .await
            .unwrap()
            .unwrap()
            == secrets
    );

    let later = now + Duration::hours(1);
    let again = store
        .rotate_webhook_secret(
            &user,
            &hook.id,
            "whsec_newer".into(),
            later + Duration::hours(24),
            later,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.current, "whsec_newer");
    assert_eq!(
        again.previous.as_deref(),
        Some("whsec_new"),
        "only the last one is kept"
    );
    assert_eq!(
        store
            .webhook_record(&hook.id)
            .await
            .unwrap()
            .unwrap()
            .webhook
            .version,
        hook.version + 2
    );
}

/// Enabling a disabled endpoint makes it active again, clears its reason,
/// resets its failure count and bumps its version; it gets deliveries again.
pub async fn enabling_a_webhook_reactivates_it_and_resets_failures(s: Subject) {
    let user = UserId::generate();
    let now = time::now();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    append(store, new_activity(&user, ActivityType::ProspectAdded, now)).await;
    let delivery = pending(store, &hook.id).await.remove(0);
    store
        .record_attempt(attempt_record(
            &hook.id,
            &delivery.id,
            attempt(1, Some(410), now, None),
            DeliveryStatus::Failed,
            EndpointUpdate {
                consecutive_failures: Some(7),
                disable_reason: Some("gone".into()),
            },
        ))
        .await
        .unwrap();
    let disabled = store.webhook(&user, &hook.id).await.unwrap().unwrap();
    assert_eq!(disabled.status, WebhookStatus::Disabled);
    assert!(store.active_webhooks().await.unwrap().is_empty());

    let at = now + Duration::minutes(1);
    let enabled = store
        .enable_webhook(&user, &hook.id, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enabled.status, WebhookStatus::Active);
    assert_eq!(enabled.disabled_reason, None);
    assert_eq!(enabled.consecutive_failures, 0);
    assert_eq!(enabled.updated_at, at);
    assert_eq!(enabled.version, disabled.version + 1);
    let active: Vec<_> = store
        .active_webhooks()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.webhook.id)
        .collect();
    assert_eq!(active, vec![hook.id.clone()]);
    let next = append(store, new_activity(&user, ActivityType::OutreachSent, now)).await;
    let queued = pending(store, &hook.id).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(carried_activity(&queued[0]), Some(next.id));
}

/// `active_webhooks` is every active endpoint of every owner, with its
/// secrets; disabled ones are left out.
pub async fn active_webhooks_are_the_active_endpoints(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let now = time::now();
    let store = s.store.as_ref();
    assert!(store.active_webhooks().await.unwrap().is_empty());
    let a = create_webhook(store, &ada, vec![]).await;
    let b = create_webhook(store, &bob, vec![EventType::PresenceOnline]).await;
    let off = create_webhook(store, &bob, vec![]).await;
    append(store, new_activity(&bob, ActivityType::ProspectAdded, now)).await;
    let delivery = pending(store, &off.id).await.remove(0);
    store
        .record_attempt(attempt_record(
            &off.id,
            &delivery.id,
            attempt(1, Some(410), now, None),
            DeliveryStatus::Failed,
            EndpointUpdate {
                consecutive_failures: Some(1),
                disable_reason: Some("gone".into()),
            },
        ))
        .await
        .unwrap();
    let active = store.active_webhooks().await.unwrap();
    let found: HashSet<_> = active.iter().map(|r| r.webhook.id.clone()).collect();
    assert_eq!(found, HashSet::from([a.id.clone(), b.id.clone()]));
    for record in active {
        assert_eq!(record.webhook.status, WebhookStatus::Active);
        assert_eq!(record.secrets.current, "whsec_Y29udHJhY3Q=");
    }
}

// ----- webhooks, as the delivery actors drive them -----

/// Appending an activity stores, in the same step, one pending delivery of
/// its envelope for every active endpoint of its user subscribed to its
/// type, and announces them; other users' and disabled endpoints get none.
pub async fn appending_enqueues_matching_deliveries_atomically(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let store = s.store.as_ref();
    let all = create_webhook(store, &ada, vec![]).await;
    let meetings = create_webhook(store, &ada, vec![EventType::MeetingBooked]).await;
    let presence = create_webhook(store, &ada, vec![EventType::PresenceOnline]).await;
    let bobs = create_webhook(store, &bob, vec![]).await;

    let outreach = append(
        store,
        new_activity(&ada, ActivityType::OutreachSent, time::now()),
    )
    .await;
    let announced = s.sink.deliveries();
    assert_eq!(announced.len(), 1);
    let d = &announced[0];
    assert_eq!((&d.webhook_id, &d.user_id), (&all.id, &ada));
    assert_eq!(d.event_type, "outreach_sent");
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!((d.attempts, d.retry_base), (0, 0));
    assert_eq!(d.next_attempt_at, Some(outreach.created_at));
    assert_eq!(d.created_at, outreach.created_at);
    let body: serde_json::Value = serde_json::from_str(&d.payload).unwrap();
    assert_eq!(body["type"], "outreach_sent");
    assert_eq!(body["timestamp"], time::format(&outreach.created_at));
    assert_eq!(body["data"]["id"], outreach.id.as_str());
    assert_eq!(body["data"]["user_id"], ada.as_str());
    assert_eq!(body["data"]["title"], outreach.title.as_str());
    // What the delivery actors read back is what was announced.
    let stored = pending(store, &all.id).await;
    assert_eq!(delivery_ids(&stored), vec![d.id.clone()]);
    assert_eq!(stored[0].payload, d.payload);
    assert_eq!(stored[0].next_attempt_at, d.next_attempt_at);

    let meeting = append(
        store,
        new_activity(&ada, ActivityType::MeetingBooked, time::now()),
    )
    .await;
    let announced = s.sink.deliveries();
    assert_eq!(announced.len(), 3);
    let targets: HashSet<_> = announced[1..]
        .iter()
        .map(|d| d.webhook_id.clone())
        .collect();
    assert_eq!(
        targets,
        HashSet::from([all.id.clone(), meetings.id.clone()])
    );
    assert!(announced[1..]
        .iter()
        .all(|d| carried_activity(d) == Some(meeting.id.clone())));
    assert_ne!(announced[1].id, announced[2].id);
    assert!(pending(store, &presence.id).await.is_empty());
    assert!(pending(store, &bobs.id).await.is_empty());
    s.sink.assert_in_order();
}

/// A presence event is delivered only to the active endpoints of the user
/// that list it by name (an empty list takes activities only), with the
/// given payload, and announced; it is neither history nor counted.
pub async fn presence_events_go_only_to_endpoints_that_list_them(s: Subject) {
    let user = UserId::generate();
    let store = s.store.as_ref();
    let all = create_webhook(store, &user, vec![]).await;
    let online = create_webhook(store, &user, vec![EventType::PresenceOnline]).await;
    let both = create_webhook(
        store,
        &user,
        vec![
            EventType::MeetingBooked,
            EventType::PresenceOffline,
            EventType::PresenceOnline,
        ],
    )
    .await;
    let offline_only = create_webhook(store, &user, vec![EventType::PresenceOffline]).await;
    let at = time::now();
    let body = webhook::envelope("presence.online", at, &json!({"user_id": user.as_str()}));
    let stored = store
        .enqueue_event(&user, EventType::PresenceOnline, body.clone(), at)
        .await
        .unwrap();
    let targets: HashSet<_> = stored.iter().map(|d| d.webhook_id.clone()).collect();
    assert_eq!(targets, HashSet::from([online.id.clone(), both.id.clone()]));
    assert_eq!(
        delivery_ids(&s.sink.deliveries()),
        delivery_ids(&stored),
        "announced"
    );
    for d in &stored {
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!(d.event_type, "presence.online");
        assert_eq!(d.payload, body);
        assert_eq!(d.user_id, user);
    }
    let queued = pending(store, &both.id).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].payload, body);
    assert_eq!(queued[0].event_type, "presence.online");
    assert!(pending(store, &all.id).await.is_empty());
    assert!(pending(store, &offline_only.id).await.is_empty());
    // Not history, not counted.
    assert!(store
        .list_activities(
            &user,
            ActivityQuery {
                limit: 10,
                ..ActivityQuery::default()
            }
        )
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(s.sink.activities().is_empty());
    assert!(store
        .hourly_counts(&user, at - Duration::days(1), at + Duration::days(1))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .enqueue_event(&UserId::generate(), EventType::PresenceOffline, body, at)
        .await
        .unwrap()
        .is_empty());
}

/// An endpoint's pending deliveries come in creation order, one page per
/// call, each cursor continuing after the last one returned.
pub async fn pending_deliveries_come_in_creation_order(s: Subject) {
    let user = UserId::generate();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    let other = create_webhook(store, &user, vec![EventType::PresenceOnline]).await;
    let now = time::now();
    let kinds = [ActivityType::ProspectAdded; 5];
    let stored = append_each(store, &user, &kinds, now).await;
    store
        .enqueue_event(&user, EventType::PresenceOnline, "{}".into(), now)
        .await
        .unwrap();
    let mut walked = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.pending_deliveries(&hook.id, cursor, 2).await.unwrap();
        assert!(page.items.len() <= 2);
        assert!(walked.len() <= 5, "the cursor must come to an end");
        walked.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let carried: Vec<_> = walked
        .iter()
        .map(|d| carried_activity(d).unwrap())
        .collect();
    assert_eq!(carried, ids(&stored));
    assert!(walked.iter().all(|d| d.webhook_id == hook.id));
    assert_eq!(pending(store, &other.id).await.len(), 1);

    // A settled delivery leaves the queue; the order of the rest holds.
    store
        .record_attempt(attempt_record(
            &hook.id,
            &walked[1].id,
            attempt(1, Some(200), now, None),
            DeliveryStatus::Succeeded,
            failures(0),
        ))
        .await
        .unwrap();
    let left = pending(store, &hook.id).await;
    let expected: Vec<_> = walked
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, d)| d.id.clone())
        .collect();
    assert_eq!(delivery_ids(&left), expected);
}

/// An attempt is stored once with the delivery's new status and the
/// endpoint's counters (and its disabling) in one step; an attempt whose
/// number is not above the delivery's count changes nothing. Disabled
/// endpoints get no new deliveries.
pub async fn attempts_are_recorded_once_and_can_disable(s: Subject) {
    let user = UserId::generate();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    append(
        store,
        new_activity(&user, ActivityType::ProspectAdded, time::now()),
    )
    .await;
    let delivery = s.sink.deliveries()[0].clone();
    let now = time::now();
    let record = |n: u32, reason: Option<&str>| {
        attempt_record(
            &hook.id,
            &delivery.id,
            attempt(n, Some(500), now + Duration::seconds(n as i64), None),
            DeliveryStatus::Failed,
            EndpointUpdate {
                consecutive_failures: Some(n),
                disable_reason: reason.map(str::to_owned),
            },
        )
    };
    store
        .record_attempt(record(2, Some("too many")))
        .await
        .unwrap();
    // Stale writes: an earlier attempt, the same one again.
    store.record_attempt(record(1, None)).await.unwrap();
    store.record_attempt(record(2, None)).await.unwrap();
    let log = all_deliveries_log(store, &user, &hook.id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].id, delivery.id);
    assert_eq!(log[0].attempt_count, 2);
    assert_eq!(log[0].status, DeliveryStatus::Failed);
    assert_eq!(log[0].attempts.len(), 1);
    assert_eq!(log[0].attempts[0].attempt, 2);
    assert_eq!(log[0].attempts[0].status_code, Some(500));
    assert_eq!(
        log[0].attempts[0].response_body.as_deref(),
        Some("status 500")
    );
    assert_eq!(log[0].body, delivery.payload);

    let stored = store.webhook(&user, &hook.id).await.unwrap().unwrap();
    assert_eq!(stored.status, WebhookStatus::Disabled);
    assert_eq!(stored.disabled_reason.as_deref(), Some("too many"));
    assert_eq!(stored.consecutive_failures, 2);
    assert_eq!(stored.last_status_code, Some(500));
    assert_eq!(stored.last_delivery_at, Some(now + Duration::seconds(2)));
    assert_eq!(
        stored.version,
        hook.version + 1,
        "disabling bumps the version"
    );
    assert!(pending(store, &hook.id).await.is_empty());

    append(store, new_activity(&user, ActivityType::ProspectAdded, now)).await;
    assert_eq!(
        s.sink.deliveries().len(),
        1,
        "a disabled endpoint gets nothing new"
    );
    assert_eq!(all_deliveries_log(store, &user, &hook.id).await.len(), 1);
}

/// An attempt that succeeds or fails for good takes its delivery out of the
/// pending queue; one that schedules a retry keeps it pending, due at the
/// new time. A failure count of `None` leaves the endpoint's count as it is.
pub async fn attempts_settle_or_reschedule_their_delivery(s: Subject) {
    let user = UserId::generate();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    let now = time::now();
    append_each(store, &user, &[ActivityType::ProspectAdded; 3], now).await;
    let queued = pending(store, &hook.id).await;
    let retry_at = now + Duration::minutes(5);

    store
        .record_attempt(attempt_record(
            &hook.id,
            &queued[0].id,
            attempt(1, None, now, Some(retry_at)),
            DeliveryStatus::Pending,
            failures(3),
        ))
        .await
        .unwrap();
    store
        .record_attempt(attempt_record(
            &hook.id,
            &queued[1].id,
            attempt(1, Some(200), now, None),
            DeliveryStatus::Succeeded,
            EndpointUpdate::default(),
        ))
        .await
        .unwrap();
    let left = pending(store, &hook.id).await;
    assert_eq!(
        delivery_ids(&left),
        vec![queued[0].id.clone(), queued[2].id.clone()]
    );
    assert_eq!(left[0].attempts, 1);
    assert_eq!(left[0].next_attempt_at, Some(retry_at));
    assert_eq!(left[0].status, DeliveryStatus::Pending);
    let endpoint = store.webhook(&user, &hook.id).await.unwrap().unwrap();
    assert_eq!(endpoint.consecutive_failures, 3, "None left the count");
    assert_eq!(endpoint.last_status_code, Some(200));
    assert_eq!(endpoint.status, WebhookStatus::Active);

    store
        .record_attempt(attempt_record(
            &hook.id,
            &queued[0].id,
            attempt(2, Some(404), retry_at, None),
            DeliveryStatus::Failed,
            failures(4),
        ))
        .await
        .unwrap();
    assert_eq!(
        delivery_ids(&pending(store, &hook.id).await),
        vec![queued[2].id.clone()]
    );
    let log = all_deliveries_log(store, &user, &hook.id).await;
    let first = log.iter().find(|l| l.id == queued[0].id).unwrap();
    assert_eq!(first.status, DeliveryStatus::Failed);
    let numbers: Vec<_> = first.attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, [1, 2], "attempts oldest first");
    assert_eq!(
        first.attempts[0].error.as_deref(),
        Some("connection refused")
    );
    assert_eq!(first.attempts[0].next_attempt_at, Some(retry_at));
    let endpoint = store.webhook(&user, &hook.id).await.unwrap().unwrap();
    assert_eq!(endpoint.consecutive_failures, 4);
    assert_eq!(endpoint.last_status_code, Some(404));
    assert_eq!(endpoint.last_delivery_at, Some(retry_at));
}

/// A manual retry puts a delivery back to pending, due now, with a new
/// round (`retry_base` = attempts made; earlier attempts keep their
/// numbers). Another owner's, another endpoint's or an unknown delivery is
/// `None`.
pub async fn a_manual_retry_starts_a_new_round(s: Subject) {
    let user = UserId::generate();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    let sibling = create_webhook(store, &user, vec![]).await;
    let now = time::now();
    append(store, new_activity(&user, ActivityType::ProspectAdded, now)).await;
    let delivery = pending(store, &hook.id).await.remove(0);
    for n in 1..=2 {
        store
            .record_attempt(attempt_record(
                &hook.id,
                &delivery.id,
                attempt(n, Some(500), now, None),
                if n == 2 {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Pending
                },
                failures(n),
            ))
            .await
            .unwrap();
    }
    assert!(pending(store, &hook.id).await.is_empty());

    let later = now + Duration::minutes(30);
    assert!(store
        .retry_delivery(&UserId::generate(), &hook.id, &delivery.id, later)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .retry_delivery(&user, &sibling.id, &delivery.id, later)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .retry_delivery(&user, &hook.id, &DeliveryId::generate(), later)
        .await
        .unwrap()
        .is_none());
    assert!(pending(store, &hook.id).await.is_empty());

    let retried = store
        .retry_delivery(&user, &hook.id, &delivery.id, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried.id, delivery.id);
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!((retried.attempts, retried.retry_base), (2, 2));
    assert_eq!(retried.next_attempt_at, Some(later));
    assert_eq!(retried.payload, delivery.payload);
    let queued = pending(store, &hook.id).await;
    assert_eq!(delivery_ids(&queued), vec![delivery.id.clone()]);
    assert_eq!(queued[0].retry_base, 2);
    // The next attempt is number 3; the log keeps 1 and 2.
    store
        .record_attempt(attempt_record(
            &hook.id,
            &delivery.id,
            attempt(3, Some(200), later, None),
            DeliveryStatus::Succeeded,
            failures(0),
        ))
        .await
        .unwrap();
    let log = all_deliveries_log(store, &user, &hook.id).await;
    let numbers: Vec<_> = log[0].attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(log[0].status, DeliveryStatus::Succeeded);
}

/// An endpoint's deliveries log is newest first, filtered by status, one
/// page at a time with cursors that continue where the page stopped.
pub async fn deliveries_are_listed_newest_first_with_cursors(s: Subject) {
    let user = UserId::generate();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    let other = create_webhook(store, &user, vec![EventType::MeetingBooked]).await;
    let now = time::now();
    use ActivityType::{MeetingBooked as M, ProspectAdded as P};
    append_each(store, &user, &[P, M, P, P, M], now).await;
    let created = pending(store, &hook.id).await;
    assert_eq!(created.len(), 5);
    for i in [1, 3] {
        store
            .record_attempt(attempt_record(
                &hook.id,
                &created[i].id,
                attempt(1, Some(200), now, None),
                DeliveryStatus::Succeeded,
                failures(0),
            ))
            .await
            .unwrap();
    }

    let mut walked = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_deliveries(
                &user,
                &hook.id,
                DeliveryQuery {
                    cursor,
                    limit: 2,
                    ..DeliveryQuery::default()
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        assert!(walked.len() <= 5, "the cursor must come to an end");
        walked.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut newest_first = delivery_ids(&created);
    newest_first.reverse();
    assert_eq!(
        walked.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        newest_first
    );
    assert_eq!(walked[1].status, DeliveryStatus::Succeeded);
    assert_eq!(walked[1].attempts.len(), 1);
    assert_eq!(walked[0].status, DeliveryStatus::Pending);
    assert!(walked[0].attempts.is_empty());

    let first = store
        .list_deliveries(
            &user,
            &hook.id,
            DeliveryQuery {
                status: Some(DeliveryStatus::Pending),
                cursor: None,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        first.items.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        vec![created[4].id.clone(), created[2].id.clone()]
    );
    let rest = store
        .list_deliveries(
            &user,
            &hook.id,
            DeliveryQuery {
                status: Some(DeliveryStatus::Pending),
                cursor: first.next_cursor,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        vec![created[0].id.clone()]
    );
    let succeeded = store
        .list_deliveries(
            &user,
            &hook.id,
            DeliveryQuery {
                status: Some(DeliveryStatus::Succeeded),
                cursor: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(succeeded.items.len(), 2);
    assert_eq!(all_deliveries_log(store, &user, &other.id).await.len(), 2);
}

/// A test delivery is stored with its only attempt and the endpoint's new
/// counters; it is in the log, never pending. For an unknown endpoint
/// nothing is stored.
pub async fn test_deliveries_are_stored_with_their_attempt(s: Subject) {
    let user = UserId::generate();
    let store = s.store.as_ref();
    let hook = create_webhook(store, &user, vec![]).await;
    let now = time::now();
    append(store, new_activity(&user, ActivityType::ProspectAdded, now)).await;
    let event = pending(store, &hook.id).await.remove(0);
    store
        .record_attempt(attempt_record(
            &hook.id,
            &event.id,
            attempt(1, Some(500), now, Some(now)),
            DeliveryStatus::Pending,
            failures(2),
        ))
        .await
        .unwrap();
    let probe = |webhook: &WebhookId| {
        let mut d = Delivery::pending(
            DeliveryId::generate(),
            webhook.clone(),
            user.clone(),
            webhook::TEST_EVENT,
            webhook::envelope(webhook::TEST_EVENT, now, &json!({"test": true})),
            now,
        );
        d.status = DeliveryStatus::Succeeded;
        d.attempts = 1;
        d.next_attempt_at = None;
        d
    };
    let delivery = probe(&hook.id);
    let at = now + Duration::seconds(1);
    store
        .record_test_delivery(
            delivery.clone(),
            attempt(1, Some(204), at, None),
            failures(0),
        )
        .await
        .unwrap();
    let log = all_deliveries_log(store, &user, &hook.id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].id, delivery.id, "newest first");
    assert_eq!(log[0].event_type, webhook::TEST_EVENT);
    assert_eq!(log[0].status, DeliveryStatus::Succeeded);
    assert_eq!(log[0].attempt_count, 1);
    assert_eq!(log[0].body, delivery.payload);
    assert_eq!(log[0].attempts.len(), 1);
    assert_eq!(log[0].attempts[0].status_code, Some(204));
    assert_eq!(
        delivery_ids(&pending(store, &hook.id).await),
        vec![event.id.clone()]
    );
    let endpoint = store.webhook(&user, &hook.id).await.unwrap().unwrap();
    assert_eq!(endpoint.last_status_code, Some(204));
    assert_eq!(endpoint.last_delivery_at, Some(at));
    assert_eq!(endpoint.consecutive_failures, 0);

    // A failed probe with no count leaves the count.
    let failed = probe(&hook.id);
    store
        .record_test_delivery(
            failed,
            attempt(1, Some(500), at, None),
            EndpointUpdate::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .webhook(&user, &hook.id)
            .await
            .unwrap()
            .unwrap()
            .consecutive_failures,
        0
    );
    assert_eq!(all_deliveries_log(store, &user, &hook.id).await.len(), 3);

    let ghost = WebhookId::generate();
    store
        .record_test_delivery(probe(&ghost), attempt(1, Some(204), at, None), failures(0))
        .await
        .unwrap();
    assert!(store.webhook_record(&ghost).await.unwrap().is_none());
}

// ----- analytics -----

fn counts_of(rows: &[HourlyCounts], hour: DateTime<Utc>) -> Option<&HourlyCounts> {
    rows.iter().find(|r| r.hour_start == hour)
}

/// Every append (single, bulk, and the `task_completed` activity of a task
/// update) is counted in the UTC hour of its `created_at`; notifications
/// count nowhere, a completed research task counts twice.
pub async fn hourly_counts_count_single_bulk_and_task_appends(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let store = s.store.as_ref();
    append(
        store,
        new_activity(&ada, ActivityType::OutreachSent, at("2025-01-01T10:15:00Z")),
    )
    .await;
    append(
        store,
        new_activity(
            &ada,
            ActivityType::MeetingBooked,
            at("2025-01-01T10:59:59.999Z"),
        ),
    )
    .await;
    store
        .append_activities(vec![
            new_activity(&ada, ActivityType::OutreachSent, at("2025-01-01T10:30:00Z")),
            new_activity(
                &ada,
                ActivityType::ProspectAdded,
                at("2025-01-01T11:05:00Z"),
            ),
            new_activity(
                &bob,
                ActivityType::ProspectAdded,
                at("2025-01-01T11:05:00Z"),
            ),
        ])
        .await
        .unwrap();
    let task = new_task(&ada, TaskKind::Research, at("2025-01-01T11:00:00Z"));
    run_to_completion(
        store,
        &task,
        at("2025-01-01T11:01:00Z"),
        at("2025-01-01T11:10:00Z"),
    )
    .await;
    append(
        store,
        new_activity(&ada, ActivityType::Notification, at("2025-01-01T11:20:00Z")),
    )
    .await;
    append(
        store,
        new_activity(&ada, ActivityType::Notification, at("2025-01-01T12:20:00Z")),
    )
    .await;

    let rows = store
        .hourly_counts(&ada, at("2025-01-01T00:00:00Z"), at("2025-01-02T00:00:00Z"))
        .await
        .unwrap();
    let hours: Vec<_> = rows
        .iter()
        .filter(|r| !r.counts.is_zero())
        .map(|r| r.hour_start)
        .collect();
    assert_eq!(
        hours,
        [at("2025-01-01T10:00:00Z"), at("2025-01-01T11:00:00Z")],
        "oldest first"
    );
    let ten = &counts_of(&rows, at("2025-01-01T10:00:00Z")).unwrap().counts;
    assert_eq!(ten.get(CountedMetric::OutreachSent), 2);
    assert_eq!(ten.get(CountedMetric::MeetingsBooked), 1);
    assert_eq!(ten.0.iter().sum::<u64>(), 3);
    let eleven = &counts_of(&rows, at("2025-01-01T11:00:00Z")).unwrap().counts;
    assert_eq!(eleven.get(CountedMetric::ProspectsAdded), 1);
    assert_eq!(eleven.get(CountedMetric::TasksCompleted), 1);
    assert_eq!(eleven.get(CountedMetric::ResearchTasksCompleted), 1);
    assert_eq!(
        eleven.0.iter().sum::<u64>(),
        3,
        "the notification counts nowhere"
    );
    let bobs = store
        .hourly_counts(&bob, at("2025-01-01T00:00:00Z"), at("2025-01-02T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].counts.get(CountedMetric::ProspectsAdded), 1);
}

/// `hourly_counts` covers the hours that start in `[from, to)`: an hour
/// that began before `from` is left out, one that starts just before `to`
/// is in; other users are never counted.
pub async fn hourly_counts_cover_the_hours_starting_in_the_range(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let stored = s
        .store
        .append_activities(vec![
            new_activity(
                &ada,
                ActivityType::OutreachSent,
                at("2025-01-01T09:59:59.999Z"),
            ),
            new_activity(&ada, ActivityType::OutreachSent, at("2025-01-01T10:00:00Z")),
            new_activity(&bob, ActivityType::OutreachSent, at("2025-01-01T10:00:00Z")),
            new_activity(&ada, ActivityType::OutreachSent, at("2025-01-01T11:00:00Z")),
        ])
        .await
        .unwrap();
    assert_eq!(stored.len(), 4);
    // 09:30 is inside the 09:00 hour: that hour does not start in range.
    let rows = s
        .store
        .hourly_counts(
            &ada,
            at("2025-01-01T09:30:00Z"),
            at("2025-01-01T10:00:00.001Z"),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].hour_start, at("2025-01-01T10:00:00Z"));
    assert_eq!(
        rows[0].counts.get(CountedMetric::OutreachSent),
        1,
        "bob is not counted"
    );
    let rows = s
        .store
        .hourly_counts(&ada, at("2025-01-01T09:00:00Z"), at("2025-01-01T11:00:00Z"))
        .await
        .unwrap();
    let hours: Vec<_> = rows.iter().map(|r| r.hour_start).collect();
    assert_eq!(
        hours,
        [at("2025-01-01T09:00:00Z"), at("2025-01-01T10:00:00Z")]
    );
    assert!(s
        .store
        .hourly_counts(&ada, at("2025-01-01T10:00:00Z"), at("2025-01-01T10:00:00Z"))
        .await
        .unwrap()
        .is_empty());
}

// ----- what the sink is told -----

/// The sink is told every stored activity once, each user's in id order
/// (single, bulk and task appends alike), every task change, and every
/// delivery after the activity it carries.
pub async fn the_sink_sees_activities_in_id_order_and_deliveries_after_them(s: Subject) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let store = s.store.as_ref();
    create_webhook(store, &ada, vec![]).await;
    create_webhook(store, &bob, vec![EventType::OutreachSent]).await;
    let now = time::now();
    let mut stored =
        vec![append(store, new_activity(&ada, ActivityType::ProspectAdded, now)).await];
    stored.extend(
        store
            .append_activities(vec![
                new_activity(&ada, ActivityType::OutreachSent, now),
                new_activity(&bob, ActivityType::OutreachSent, now),
                new_activity(&bob, ActivityType::MeetingBooked, now),
                new_activity(&ada, ActivityType::MeetingBooked, now),
            ])
            .await
            .unwrap(),
    );
    let task = new_task(&ada, TaskKind::Content, now);
    stored.push(run_to_completion(store, &task, now, now).await.1);
    stored.push(append(store, new_activity(&bob, ActivityType::OutreachSent, now)).await);

    s.sink.assert_in_order();
    let mut announced = ids(&s.sink.activities());
    let mut expected = ids(&stored);
    announced.sort();
    expected.sort();
    assert_eq!(announced, expected, "every activity once");
    assert_eq!(s.sink.tasks().len(), 3);
    let carried: Vec<_> = s
        .sink
        .deliveries()
        .iter()
        .filter_map(carried_activity)
        .collect();
    let subscribed: Vec<_> = stored
        .iter()
        .filter(|a| a.user_id == ada || a.kind == ActivityType::OutreachSent)
        .map(|a| a.id.clone())
        .collect();
    let (mut carried, mut subscribed) = (carried, subscribed);
    carried.sort();
    subscribed.sort();
    assert_eq!(carried, subscribed, "one delivery per subscribed activity");
}
