//! Tasks: creation, optimistic-version updates (with the `task_completed`
//! activity in the same transaction) and lists.

use async_trait::async_trait;
use hub_core::ids::{TaskId, UserId};
use hub_core::model::{Activity, Task, TaskKind, TaskStatus};
use hub_core::store::{Conflict, Page, StoreError, TaskChange, TaskQuery, TaskStore};
use hub_core::time::{from_micros, micros};
use rusqlite::{params, OptionalExtension, Row, ToSql};

use crate::activities::insert_activity;
use crate::webhooks::enqueue_deliveries;
use crate::{internal, SqliteStore};

pub(crate) const TASK_COLUMNS: &str =
    "seq, id, user_id, kind, title, status, progress, message, eta_seconds, \
     metadata, created_at, updated_at, started_at, finished_at, version";

pub(crate) fn task_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Task)> {
    let kind: String = row.get(3)?;
    let status: String = row.get(5)?;
    let metadata: String = row.get(9)?;
    let eta: Option<i64> = row.get(8)?;
    Ok((
        row.get(0)?,
        Task {
            id: TaskId(row.get(1)?),
            user_id: UserId(row.get(2)?),
            kind: TaskKind::parse(&kind).unwrap_or(TaskKind::Automation),
            title: row.get(4)?,
            status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Failed),
            progress: row.get::<_, i64>(6)?.clamp(0, 100) as u8,
            message: row.get(7)?,
            eta_seconds: eta.map(|e| e.max(0) as u64),
            metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
            created_at: from_micros(row.get(10)?),
            updated_at: from_micros(row.get(11)?),
            started_at: row.get::<_, Option<i64>>(12)?.map(from_micros),
            finished_at: row.get::<_, Option<i64>>(13)?.map(from_micros),
            version: row.get(14)?,
        },
    ))
}

#[async_trait]
impl TaskStore for SqliteStore {
    async fn create_task(&self, task: Task) -> Result<(), StoreError> {
        let announced = task.clone();
        self.write_announcing(move |conn| {
            conn.prepare_cached(
                "INSERT INTO tasks (id, user_id, kind, title, status, progress, message, eta_seconds, \
                 metadata, created_at, updated_at, started_at, finished_at, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .map_err(internal)?
            .execute(params![
                task.id.as_str(),
                task.user_id.as_str(),
                task.kind.as_str(),
                task.title,
                task.status.as_str(),
                task.progress,
                task.message,
                task.eta_seconds.map(|e| e as i64),
                task.metadata.to_string(),
                micros(task.created_at),
                micros(task.updated_at),
                task.started_at.map(micros),
                task.finished_at.map(micros),
                task.version
            ])
            .map_err(internal)?;
            Ok(())
        }, move |sink, _| sink.task_committed(&announced))
        .await
    }

    async fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let id = id.clone();
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"))
                .map_err(internal)?
                .query_row(params![id.as_str()], task_from_row)
                .optional()
                .map(|found| found.map(|(_, task)| task))
                .map_err(internal)
        })
        .await
    }

    async fn update_task(&self, change: TaskChange) -> Result<Option<Activity>, StoreError> {
        let announced = change.task.clone();
        self.write_announcing(
            move |conn| {
                let task = &change.task;
                let updated = conn
                .prepare_cached(
                    "UPDATE tasks SET status = ?1, progress = ?2, message = ?3, eta_seconds = ?4, \
                     updated_at = ?5, started_at = ?6, finished_at = ?7, version = ?8 \
                     WHERE id = ?9 AND user_id = ?10 AND version = ?11",
                )
                .map_err(internal)?
                .execute(params![
                    task.status.as_str(),
                    task.progress,
                    task.message,
                    task.eta_seconds.map(|e| e as i64),
                    micros(task.updated_at),
                    task.started_at.map(micros),
                    task.finished_at.map(micros),
                    task.version,
                    task.id.as_str(),
                    task.user_id.as_str(),
                    change.expected_version
                ])
                .map_err(internal)?;
                if updated == 0 {
                    return Err(StoreError::Conflict(Conflict::TaskChanged));
                }
                match &change.activity {
                    Some(new) => {
                        let stored = insert_activity(conn, new)?;
                        let deliveries = enqueue_deliveries(conn, &stored)?;
                        Ok((Some(stored), deliveries))
                    }
                    None => Ok((None, Vec::new())),
                }
            },
            move |sink, (activity, deliveries)| {
                sink.task_committed(&announced);
                if let Some(activity) = activity {
                    sink.activity_committed(activity);
                }
                if !deliveries.is_empty() {
                    sink.deliveries_committed(deliveries);
                }
            },
        )
        .await
        .map(|(activity, _)| activity)
    }

    async fn list_tasks(&self, user: &UserId, query: TaskQuery) -> Result<Page<Task>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ?");
            let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(user.0.clone())];
            if let Some(status) = query.status {
                sql.push_str(" AND status = ?");
                args.push(Box::new(status.as_str()));
            }
            if let Some(kind) = query.kind {
                sql.push_str(" AND kind = ?");
                args.push(Box::new(kind.as_str()));
            }
            if let Some(before) = query.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
                sql.push_str(" AND seq < ?");
                args.push(Box::new(before));
            }
            sql.push_str(" ORDER BY seq DESC LIMIT ?");
            args.push(Box::new(query.limit as i64 + 1));
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let mut rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), task_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_cursor = if rows.len() > query.limit {
                rows.truncate(query.limit);
                rows.last().map(|(seq, _)| seq.to_string())
            } else {
                None
            };
            Ok(Page {
                items: rows.into_iter().map(|(_, t)| t).collect(),
                next_cursor,
            })
        })
        .await
    }
}
