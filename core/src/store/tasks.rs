//! Tasks: long-running work whose progress is pushed live, changed with
//! optimistic versions.

use async_trait::async_trait;

use super::{Page, StoreError};
use crate::ids::{TaskId, UserId};
use crate::model::{Activity, NewActivity, Task, TaskKind, TaskStatus};

/// Filters of the task list, newest first.
#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub kind: Option<TaskKind>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    pub limit: usize,
}

/// A task change to persist, checked against the version it was computed from.
#[derive(Clone, Debug)]
pub struct TaskChange {
    pub task: Task,
    pub expected_version: i64,
    /// Stored in the same atomic step (the `task_completed` activity).
    pub activity: Option<NewActivity>,
}

/// Tasks and their progress.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    async fn create_task(&self, task: Task) -> Result<(), StoreError>;
    /// One task by id, whoever owns it (callers check ownership).
    async fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError>;
    /// Saves a change if the stored version is still `expected_version`
    /// (`Conflict(TaskChanged)` otherwise); returns the stored activity too.
    async fn update_task(&self, change: TaskChange) -> Result<Option<Activity>, StoreError>;
    async fn list_tasks(&self, user: &UserId, query: TaskQuery) -> Result<Page<Task>, StoreError>;
}
