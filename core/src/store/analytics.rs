//! Analytics counters: hourly per-user counts kept in the same atomic step
//! as the activities they count.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::analytics::HourlyCounts;
use crate::ids::UserId;

/// The hourly counters behind the analytics summaries.
#[async_trait]
pub trait AnalyticsStore: Send + Sync + 'static {
    /// The analytics counters of `user` for every UTC hour that starts in
    /// `[from, to)`, oldest first. Every append (single, bulk, or the
    /// `task_completed` activity of a task update) increments them in the same
    /// atomic step that stores the activity, bucketed by the activity's
    /// `created_at`. Hours in which nothing was counted may be left out.
    async fn hourly_counts(
        &self,
        user: &UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourlyCounts>, StoreError>;
}
