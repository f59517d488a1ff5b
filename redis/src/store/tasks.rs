//! Tasks: creation and optimistic-version updates (one script, with the
//! `task_completed` activity), and lists.

use async_trait::async_trait;
use hub_core::analytics::CountedMetric;
use hub_core::ids::{TaskId, UserId};
use hub_core::model::{Activity, NewActivity, Task};
use hub_core::store::{Conflict, Page, StoreError, TaskChange, TaskQuery};
use hub_core::time::micros;

use redis::AsyncCommands;

use hub_core::store::TaskStore;

use super::activities::{activity_tail, parse_activity};
use super::analytics::counter_args;
use super::{unavailable, RedisStore, SCAN_CHUNK};

impl RedisStore {
    pub(crate) async fn save_task(
        &self,
        task: &Task,
        expected: i64,
        activity: Option<&NewActivity>,
    ) -> Result<Option<Activity>, StoreError> {
        // The version lives beside the JSON (`Task` does not serialise it).
        let json = serde_json::to_string(task).map_err(|e| StoreError::Internal(e.to_string()))?;
        let frame = hub_core::frames::Outbound::task(task).text.to_string();
        let (kind, tail, ts, created) = match activity {
            Some(a) => (
                a.kind.as_str(),
                activity_tail(a)?,
                hub_core::time::format(&a.created_at),
                micros(a.created_at),
            ),
            None => ("", String::new(), String::new(), 0),
        };
        let (hour, metrics) = activity.map(counter_args).unwrap_or_default();
        let reply: Vec<String> = self
            .scripts
            .task_save
            .arg(self.keys.prefix())
            .arg(task.id.as_str())
            .arg(task.user_id.as_str())
            .arg(expected)
            .arg(task.version)
            .arg(json)
            .arg(frame)
            .arg(kind)
            .arg(tail)
            .arg(self.history_size)
            .arg(ts)
            .arg(created)
            .arg(Self::delivery_base())
            .arg(&self.node_id)
            .arg(hour)
            .arg(metrics)
            .arg(CountedMetric::COUNT)
            .arg(self.highest_seen())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match reply.first().map(String::as_str) {
            Some("saved") => {
                self.sink.task_committed(task);
                match reply.get(1) {
                    Some(json) => {
                        let stored = parse_activity(json)?;
                        self.sink.activity_committed(&stored);
                        self.announce(&stored, json, &reply[2..]);
                        Ok(Some(stored))
                    }
                    None => Ok(None),
                }
            }
            Some("conflict") => Err(StoreError::Conflict(Conflict::TaskChanged)),
            other => Err(StoreError::Internal(format!(
                "task script answered {other:?}"
            ))),
        }
    }
}

#[async_trait]
impl TaskStore for RedisStore {
    async fn create_task(&self, task: Task) -> Result<(), StoreError> {
        self.save_task(&task, -1, None).await.map(|_| ())
    }

    async fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let fields: Vec<Option<String>> = self
            .conn()
            .hget(self.keys.task(id), &["json", "version"])
            .await
            .map_err(unavailable)?;
        let [Some(json), Some(version)] = <[Option<String>; 2]>::try_from(fields)
            .map_err(|_| StoreError::Internal("task hash shape".into()))?
        else {
            return Ok(None);
        };
        let mut task: Task = serde_json::from_str(&json)
            .map_err(|e| StoreError::Internal(format!("bad task JSON: {e}")))?;
        task.version = version.parse().unwrap_or(0);
        Ok(Some(task))
    }

    async fn update_task(&self, change: TaskChange) -> Result<Option<Activity>, StoreError> {
        self.save_task(
            &change.task,
            change.expected_version,
            change.activity.as_ref(),
        )
        .await
    }

    async fn list_tasks(&self, user: &UserId, query: TaskQuery) -> Result<Page<Task>, StoreError> {
        let index = self.keys.tasks_of(user);
        let mut max = match query.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
            Some(c) => format!("({c}"),
            None => "+inf".to_owned(),
        };
        let mut rows: Vec<(i64, Task)> = Vec::new();
        loop {
            let ids: Vec<(String, f64)> = self
                .conn()
                .zrevrangebyscore_limit_withscores(&index, &max, "-inf", 0, SCAN_CHUNK)
                .await
                .map_err(unavailable)?;
            let exhausted = (ids.len() as isize) < SCAN_CHUNK;
            let Some((_, last)) = ids.last().cloned() else {
                break;
            };
            for (id, score) in ids {
                if let Some(task) = self.task(&TaskId(id)).await? {
                    let status_ok = query.status.is_none_or(|s| s == task.status);
                    let kind_ok = query.kind.is_none_or(|k| k == task.kind);
                    if status_ok && kind_ok {
                        rows.push((score as i64, task));
                    }
                }
            }
            if rows.len() > query.limit || exhausted {
                break;
            }
            max = format!("({}", last as i64);
        }
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
    }
}
