//! Tasks: creation and optimistic-version updates (one script in the
//! owner's slot, with the `task_completed` activity), lookups by id through
//! the owner index, and lists.

use async_trait::async_trait;
use hub_core::analytics::CountedMetric;
use hub_core::ids::{TaskId, UserId};
use hub_core::model::{Activity, NewActivity, Task};
use hub_core::store::{Conflict, Page, StoreError, TaskChange, TaskQuery};

use redis::AsyncCommands;

use hub_core::store::TaskStore;

use super::activities::{busy, flat_hooks, parse_activity, APPEND_ATTEMPTS};
use super::{unavailable, RedisStore, SCAN_CHUNK, USER_PUBLISH};

impl RedisStore {
    pub(crate) async fn save_task(
        &self,
        task: &Task,
        expected: i64,
        activity: Option<&NewActivity>,
    ) -> Result<Option<Activity>, StoreError> {
        let user = &task.user_id;
        if expected < 0 {
            // The owner first, so a task is never in the user's slot without
            // being found by its id.
            self.conn()
                .hset::<_, _, _, ()>(self.keys.task_owners(), task.id.as_str(), user.as_str())
                .await
                .map_err(unavailable)?;
            self.task_owners.put(task.id.as_str(), user);
        }
        // The version lives beside the JSON (`Task` does not serialise it).
        let json = serde_json::to_string(task).map_err(|e| StoreError::Internal(e.to_string()))?;
        let frame = hub_core::frames::Outbound::task(task).text.to_string();
        for _ in 0..APPEND_ATTEMPTS {
            let mut inv = self.scripts.task_save.prepare_invoke();
            inv.key(self.keys.task(user, &task.id))
                .key(self.keys.tasks_of(user))
                .key(self.keys.task_order(user));
            inv.arg(task.id.as_str())
                .arg(user.as_str())
                .arg(expected)
                .arg(task.version)
                .arg(&json)
                .arg(&frame)
                .arg(self.keys.user_channel(user))
                .arg(USER_PUBLISH);
            let mut requested = Vec::new();
            match activity {
                Some(a) => {
                    let (seq, hooks) = self.id_and_hooks(user, a.kind.as_str()).await?;
                    let p = self.prepare(a, seq, hooks)?;
                    for key in &p.keys {
                        inv.key(key);
                    }
                    inv.arg(p.kind)
                        .arg(p.seq)
                        .arg(&p.tail)
                        .arg(self.history_size)
                        .arg(&p.ts)
                        .arg(p.created)
                        .arg(&self.node_id)
                        .arg(p.hour)
                        .arg(&p.metrics)
                        .arg(CountedMetric::COUNT)
                        .arg(self.keys.webhook_channel());
                    self.id_and_hook_args(&mut inv, user, &p.hooks);
                    requested = p.hooks;
                }
                None => {
                    inv.arg("");
                }
            }
            let reply: Vec<String> = inv
                .invoke_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            return match reply.first().map(String::as_str) {
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
                Some("done") => {
                    // Sent twice; the first run saved it all.
                    self.sink.task_committed(task);
                    let json = reply.get(1).cloned().unwrap_or_default();
                    let stored = parse_activity(&json)?;
                    self.sink.activity_committed(&stored);
                    self.announce(&stored, &json, &flat_hooks(&requested));
                    Ok(Some(stored))
                }
                Some("conflict") => Err(StoreError::Conflict(Conflict::TaskChanged)),
                Some("stale") => {
                    self.raise_seen(reply.get(1));
                    continue;
                }
                Some("again") => continue,
                other => Err(StoreError::Internal(format!(
                    "task script answered {other:?}"
                ))),
            };
        }
        Err(busy())
    }

    /// The owner of a task id, if it is one.
    async fn task_owner(&self, id: &TaskId) -> Result<Option<UserId>, StoreError> {
        self.owner(&self.task_owners, self.keys.task_owners(), id.as_str())
            .await
    }

    /// A task of a known owner.
    async fn task_of(&self, user: &UserId, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let fields: Vec<Option<String>> = self
            .conn()
            .hget(self.keys.task(user, id), &["json", "version"])
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
}

#[async_trait]
impl TaskStore for RedisStore {
    async fn create_task(&self, task: Task) -> Result<(), StoreError> {
        self.save_task(&task, -1, None).await.map(|_| ())
    }

    async fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        match self.task_owner(id).await? {
            Some(owner) => self.task_of(&owner, id).await,
            None => Ok(None),
        }
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
                if let Some(task) = self.task_of(user, &TaskId(id)).await? {
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
