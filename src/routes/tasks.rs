//! `/api/tasks`: long-running work with live progress.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use hub_core::model::{ActivityType, NewActivity, Task, TaskKind, TaskStatus};
use hub_core::store::{Conflict, TaskChange, TaskQuery};
use hub_core::{StoreError, TaskId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{Json, Query};
use crate::routes::activities::{can_see, page_limit, target_user};
use crate::state::AppState;

const MAX_TITLE_CHARS: usize = 200;
const MAX_MESSAGE_CHARS: usize = 2_000;
/// Optimistic-concurrency retries before a concurrent PATCH gives up with 409.
const UPDATE_ATTEMPTS: usize = 5;
/// Running time below which no ETA is estimated from the progress rate.
const MIN_ETA_SAMPLE_SECS: f64 = 1.0;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    pub kind: TaskKind,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Required with a service key (the user acted for); a user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
}

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    pub status: Option<TaskStatus>,
    /// 0–100; never lower than the current value.
    #[schema(maximum = 100)]
    #[serde(default, deserialize_with = "crate::extract::whole_number::optional")]
    pub progress: Option<u8>,
    #[schema(max_length = 2000)]
    pub message: Option<String>,
    /// Seconds left; estimated from the progress rate when omitted.
    #[serde(default, deserialize_with = "crate::extract::whole_number::optional")]
    pub eta_seconds: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<Task>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTasks {
    #[param(value_type = Option<TaskStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<TaskKind>)]
    pub kind: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page (an opaque token of this list).
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Required with a service key: whose tasks. A user token may omit it or name only itself (403 otherwise).
    pub user_id: Option<String>,
}

fn check_title(title: &str) -> ApiResult<String> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::field(
            "title",
            format!("must be 1 to {MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(title.to_owned())
}

/// Start tracking a task (status `queued`).
#[utoipa::path(
    post, path = "/api/tasks", tag = "tasks",
    request_body = CreateTask,
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses((status = 201, description = "Created", body = Task))
)]
#[post("/tasks")]
pub async fn create_task(
    state: web::Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateTask>,
) -> ApiResult<HttpResponse> {
    let title = check_title(&body.title)?;
    if body.metadata.as_ref().is_some_and(|m| !m.is_object()) {
        return Err(ApiError::field("metadata", "must be a JSON object"));
    }
    let user = target_user(&state, &caller, body.user_id).await?;
    let now = hub_core::time::now();
    let task = Task {
        id: TaskId::generate(),
        user_id: user,
        kind: body.kind,
        title,
        status: TaskStatus::Queued,
        progress: 0,
        message: None,
        eta_seconds: None,
        metadata: body.metadata.unwrap_or_else(|| serde_json::json!({})),
        created_at: now,
        updated_at: now,
        started_at: None,
        finished_at: None,
        version: 0,
    };
    state.store.create_task(task.clone()).await?;
    Ok(HttpResponse::Created().json(task))
}

/// Estimated seconds left from the average progress rate since the start.
pub fn estimate_eta(
    progress: u8,
    started_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<u64> {
    let started = started_at?;
    if progress == 0 || progress >= 100 {
        return None;
    }
    let elapsed = (now - started).num_milliseconds() as f64 / 1000.0;
    if elapsed < MIN_ETA_SAMPLE_SECS {
        // Too little history for a rate: a guess would be noise (often 0).
        return None;
    }
    let rate = progress as f64 / elapsed;
    Some(((100 - progress) as f64 / rate).round() as u64)
}

/// The new state of `task` after `update`, or why it cannot move.
pub fn apply_update(task: &Task, update: &UpdateTask, now: DateTime<Utc>) -> ApiResult<Task> {
    let mut next = task.clone();
    if let Some(status) = update.status {
        if !task.status.can_move_to(status) {
            return Err(ApiError::new(
                ErrorCode::InvalidTransition,
                format!(
                    "A {} task cannot become {}.",
                    task.status.as_str(),
                    status.as_str()
                ),
            ));
        }
        next.status = status;
    } else if task.status.is_terminal() {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            format!(
                "The task is {} and can no longer change.",
                task.status.as_str()
            ),
        ));
    }
    if let Some(progress) = update.progress {
        if progress > 100 {
            return Err(ApiError::field("progress", "must be between 0 and 100"));
        }
        if progress < task.progress {
            return Err(ApiError::new(
                ErrorCode::ProgressDecreased,
                format!(
                    "Progress cannot go down (from {} to {progress}).",
                    task.progress
                ),
            ));
        }
        next.progress = progress;
    }
    if let Some(message) = &update.message {
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ApiError::field(
                "message",
                format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        next.message = Some(message.clone());
    }
    if next.status == TaskStatus::Running && next.started_at.is_none() {
        next.started_at = Some(now);
    }
    if next.status == TaskStatus::Completed {
        next.progress = 100;
    }
    if next.status.is_terminal() {
        next.finished_at.get_or_insert(now);
        next.eta_seconds = None;
    } else if let Some(eta) = update.eta_seconds {
        next.eta_seconds = Some(eta);
    } else if next.progress != task.progress {
        next.eta_seconds = estimate_eta(next.progress, next.started_at, now);
    }
    next.updated_at = now;
    next.version = task.version + 1;
    Ok(next)
}

/// Move a task along: status, progress, message, ETA. Pushed to the user's
/// sessions as a `task_update`; completing records a `task_completed` activity.
#[utoipa::path(
    patch, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    request_body = UpdateTask,
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Updated", body = Task),
        (status = 404, description = "No such task of yours", body = crate::error::ErrorBody),
        (status = 409, description = "Invalid transition or progress going down", body = crate::error::ErrorBody),
    )
)]
#[patch("/tasks/{id}")]
pub async fn update_task(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(update): Json<UpdateTask>,
) -> ApiResult<HttpResponse> {
    let id = TaskId(id.into_inner());
    for _ in 0..UPDATE_ATTEMPTS {
        let task = match state.store.task(&id).await? {
            Some(t) if can_see(&caller, &t.user_id) => t,
            _ => return Err(ApiError::new(ErrorCode::TaskNotFound, "No such task.")),
        };
        let now = hub_core::time::now();
        let next = apply_update(&task, &update, now)?;
        let activity = (next.status == TaskStatus::Completed
            && task.status != TaskStatus::Completed)
            .then(|| NewActivity {
                user_id: next.user_id.clone(),
                kind: ActivityType::TaskCompleted,
                title: format!("Task completed: {}", next.title),
                message: next.message.clone(),
                metadata: serde_json::json!({"task_id": next.id, "kind": next.kind}),
                link: None,
                created_at: now,
            });
        match state
            .store
            .update_task(TaskChange {
                task: next.clone(),
                expected_version: task.version,
                activity,
            })
            .await
        {
            Ok(_) => return Ok(HttpResponse::Ok().json(next)),
            Err(StoreError::Conflict(Conflict::TaskChanged)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(Conflict::TaskChanged).into())
}

/// One task.
#[utoipa::path(
    get, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The task", body = Task),
        (status = 404, description = "No such task of yours", body = crate::error::ErrorBody),
    )
)]
#[get("/tasks/{id}")]
pub async fn get_task(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    match state.store.task(&TaskId(id.into_inner())).await? {
        Some(t) if can_see(&caller, &t.user_id) => Ok(HttpResponse::Ok().json(t)),
        _ => Err(ApiError::new(ErrorCode::TaskNotFound, "No such task.")),
    }
}

/// List tasks, newest first.
#[utoipa::path(
    get, path = "/api/tasks", tag = "tasks",
    params(ListTasks),
    security(("bearer" = []), ("oauth2" = []), ("api_key" = [])),
    responses((status = 200, description = "One page", body = TaskPage))
)]
#[get("/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    caller: Caller,
    Query(q): Query<ListTasks>,
) -> ApiResult<HttpResponse> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            TaskStatus::parse(s)
                .ok_or_else(|| ApiError::field("status", format!("{s:?} is not a task status")))
        })
        .transpose()?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            TaskKind::parse(k)
                .ok_or_else(|| ApiError::field("kind", format!("{k:?} is not a task kind")))
        })
        .transpose()?;
    if q.cursor
        .as_deref()
        .is_some_and(|c| c.parse::<i64>().is_err())
    {
        return Err(ApiError::field("cursor", "is not a cursor of this list"));
    }
    let query = TaskQuery {
        status,
        kind,
        cursor: q.cursor,
        limit: page_limit(q.limit)?,
    };
    let user = target_user(&state, &caller, q.user_id).await?;
    let page = state.store.list_tasks(&user, query).await?;
    Ok(HttpResponse::Ok().json(TaskPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_core::UserId;

    fn task(status: TaskStatus, progress: u8) -> Task {
        let now = Utc::now();
        Task {
            id: TaskId("tsk_1".into()),
            user_id: UserId("usr_1".into()),
            kind: TaskKind::Research,
            title: "t".into(),
            status,
            progress,
            message: None,
            eta_seconds: None,
            metadata: serde_json::json!({}),
            created_at: now,
            updated_at: now,
            started_at: Some(now - chrono::Duration::seconds(10)),
            finished_at: None,
            version: 3,
        }
    }

    fn update(status: Option<TaskStatus>, progress: Option<u8>) -> UpdateTask {
        UpdateTask {
            status,
            progress,
            message: None,
            eta_seconds: None,
        }
    }

    #[test]
    fn eta_comes_from_the_progress_rate() {
        let t = task(TaskStatus::Running, 0);
        let next = apply_update(&t, &update(None, Some(25)), Utc::now()).unwrap();
        // 25 % in 10 s: 75 % more takes about 30 s.
        assert_eq!(next.eta_seconds, Some(30));
        assert_eq!(next.version, 4);
        // Started and moved in the same instant: no rate to estimate from.
        let fresh = Task {
            started_at: None,
            ..task(TaskStatus::Queued, 0)
        };
        let started = apply_update(
            &fresh,
            &update(Some(TaskStatus::Running), Some(40)),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(started.eta_seconds, None);
    }

    #[test]
    fn progress_never_goes_down_and_terminal_is_final() {
        let t = task(TaskStatus::Running, 50);
        assert_eq!(
            apply_update(&t, &update(None, Some(40)), Utc::now())
                .unwrap_err()
                .code,
            ErrorCode::ProgressDecreased
        );
        let done = task(TaskStatus::Completed, 100);
        assert_eq!(
            apply_update(&done, &update(None, Some(100)), Utc::now())
                .unwrap_err()
                .code,
            ErrorCode::InvalidTransition
        );
        let queued = task(TaskStatus::Queued, 0);
        assert_eq!(
            apply_update(
                &queued,
                &update(Some(TaskStatus::Completed), None),
                Utc::now()
            )
            .unwrap_err()
            .code,
            ErrorCode::InvalidTransition
        );
        let completed =
            apply_update(&t, &update(Some(TaskStatus::Completed), None), Utc::now()).unwrap();
        assert_eq!(completed.progress, 100);
        assert!(completed.finished_at.is_some());
    }
}
