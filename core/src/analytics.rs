//! What analytics count: the counted metrics of the summaries and which activity
//! feeds which metric.
//!
//! Every store increments per-user, per-UTC-hour counters of these metrics in
//! the same atomic step that stores the activity, so a summary reads at most
//! one row per hour and never scans raw activities. The mapping lives here,
//! not in a store, so the SQLite and Redis back-ends cannot disagree on it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::ActivityType;

/// The `metadata.kind` of a `task_completed` activity that also counts as a
/// completed research task (task completion writes `{"task_id", "kind"}`).
const RESEARCH_KIND: &str = "research";

/// A metric that is counted (one per matching activity). `conversion_rate` is
/// not one of them: it is derived from two counters when a summary is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountedMetric {
    ProspectsAdded,
    ProspectsAnalyzed,
    ResearchTasksCompleted,
    OutreachSent,
    MeetingsBooked,
    ContentPublished,
    AutomationsTriggered,
    TasksCompleted,
}

impl CountedMetric {
    /// Every counted metric, in the order summaries and exports list them.
    /// A metric's position here is its index in [`MetricCounts`].
    pub const ALL: [CountedMetric; 8] = [
        CountedMetric::ProspectsAdded,
        CountedMetric::ProspectsAnalyzed,
        CountedMetric::ResearchTasksCompleted,
        CountedMetric::OutreachSent,
        CountedMetric::MeetingsBooked,
        CountedMetric::ContentPublished,
        CountedMetric::AutomationsTriggered,
        CountedMetric::TasksCompleted,
    ];

    /// How many counted metrics there are.
    pub const COUNT: usize = Self::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            CountedMetric::ProspectsAdded => "prospects_added",
            CountedMetric::ProspectsAnalyzed => "prospects_analyzed",
            CountedMetric::ResearchTasksCompleted => "research_tasks_completed",
            CountedMetric::OutreachSent => "outreach_sent",
            CountedMetric::MeetingsBooked => "meetings_booked",
            CountedMetric::ContentPublished => "content_published",
            CountedMetric::AutomationsTriggered => "automations_triggered",
            CountedMetric::TasksCompleted => "tasks_completed",
        }
    }

    /// Position in [`Self::ALL`] and in [`MetricCounts`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// One count per [`CountedMetric`], indexed by [`CountedMetric::index`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricCounts(pub [u64; CountedMetric::COUNT]);

impl MetricCounts {
    pub fn get(&self, metric: CountedMetric) -> u64 {
        self.0[metric.index()]
    }

    pub fn add(&mut self, other: &MetricCounts) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0.iter()) {
            *mine += theirs;
        }
    }

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&c| c == 0)
    }

    /// The increments one activity makes (all zero for a `notification`).
    pub fn of_activity(kind: ActivityType, metadata: &serde_json::Value) -> Self {
        let mut counts = Self::default();
        for metric in metrics_of(kind, metadata) {
            counts.0[metric.index()] += 1;
        }
        counts
    }
}

/// The metrics one activity counts towards: none, one, or two (a completed
/// research task is both a completed task and a completed research task).
pub fn metrics_of(kind: ActivityType, metadata: &serde_json::Value) -> Vec<CountedMetric> {
    use CountedMetric as M;
    match kind {
        ActivityType::ProspectAdded => vec![M::ProspectsAdded],
        ActivityType::ResearchCompleted => vec![M::ProspectsAnalyzed],
        ActivityType::OutreachSent => vec![M::OutreachSent],
        ActivityType::MeetingBooked => vec![M::MeetingsBooked],
        ActivityType::ContentPublished => vec![M::ContentPublished],
        ActivityType::AutomationTriggered => vec![M::AutomationsTriggered],
        ActivityType::TaskCompleted => {
            if metadata.get("kind").and_then(serde_json::Value::as_str) == Some(RESEARCH_KIND) {
                vec![M::TasksCompleted, M::ResearchTasksCompleted]
            } else {
                vec![M::TasksCompleted]
            }
        }
        ActivityType::Notification => Vec::new(),
    }
}

/// The counters of one user for one UTC hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourlyCounts {
    /// Start of the hour (UTC, on a whole hour); the hour holds activities
    /// whose `created_at` is in `[hour_start, hour_start + 1 h)`.
    pub hour_start: DateTime<Utc>,
    pub counts: MetricCounts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_activity_type_maps_to_its_metrics() {
        use CountedMetric as M;
        let none = json!({});
        assert_eq!(
            metrics_of(ActivityType::ProspectAdded, &none),
            [M::ProspectsAdded]
        );
        assert_eq!(
            metrics_of(ActivityType::ResearchCompleted, &none),
            [M::ProspectsAnalyzed]
        );
        assert_eq!(
            metrics_of(ActivityType::TaskCompleted, &json!({"kind": "research"})),
            [M::TasksCompleted, M::ResearchTasksCompleted]
        );
        assert_eq!(
            metrics_of(ActivityType::TaskCompleted, &json!({"kind": "outreach"})),
            [M::TasksCompleted]
        );
        assert!(metrics_of(ActivityType::Notification, &none).is_empty());
    }

    #[test]
    fn indexes_follow_the_listing_order() {
        for (i, m) in CountedMetric::ALL.into_iter().enumerate() {
            assert_eq!(m.index(), i);
            assert_eq!(CountedMetric::parse(m.as_str()), Some(m));
        }
        let counts = MetricCounts::of_activity(ActivityType::MeetingBooked, &json!({}));
        assert_eq!(counts.get(CountedMetric::MeetingsBooked), 1);
        assert_eq!(counts.0.iter().sum::<u64>(), 1);
    }
}
