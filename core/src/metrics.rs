//! The hub's Prometheus metrics: plain atomics and fixed-bucket histograms,
//! rendered in the text exposition format. One `Metrics` value is created at
//! start and shared (`Arc`) with whatever counts something; no global state,
//! so tests running several hubs in one process see their own numbers.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::model::ActivityType;

/// Bucket bounds for publish→send latency, in seconds.
const LATENCY_BOUNDS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0,
];
/// Bucket bounds for HTTP request latency, in seconds.
const HTTP_BOUNDS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// A histogram with fixed bounds; lock-free to observe.
pub struct Histogram {
    bounds: &'static [f64],
    /// Per-bucket counts (not cumulative; summed when rendered). One extra
    /// slot for +Inf.
    counts: Vec<AtomicU64>,
    /// Sum of observations in nanoseconds.
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let slot = self
            .bounds
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in self.bounds.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {cumulative}", braces(labels));
    }
}

/// One HTTP latency series of a route: method, status, histogram.
pub type HttpSeries = (String, u16, Histogram);

/// Outcomes of a webhook delivery attempt.
pub const WEBHOOK_OUTCOMES: [&str; 5] = [
    "success",
    "http_error",
    "timeout",
    "network_error",
    "blocked",
];

pub struct Metrics {
    /// Open WebSocket sessions on this node.
    pub sessions: AtomicI64,
    /// Users online across the deployment, as presence last decided (the
    /// users `presence.online` was sent for and `presence.offline` not yet).
    pub presence_online: AtomicI64,
    /// Presence events decided, by status (0 online, 1 offline).
    pub presence_changes: [AtomicU64; 2],
    /// Activities stored, by type (index of `ActivityType::ALL`).
    pub events_published: [AtomicU64; 8],
    /// Frames handed to sessions by the registry.
    pub frames_sent: AtomicU64,
    /// Sessions closed for reading too slowly.
    pub slow_consumers: AtomicU64,
    /// From commit to the session writing the event frame.
    pub delivery_latency: Histogram,
    /// Webhook attempts by outcome (index of `WEBHOOK_OUTCOMES`).
    pub webhook_attempts: [AtomicU64; 5],
    /// 429s by route group.
    pub rate_limited: Mutex<BTreeMap<String, u64>>,
    /// HTTP requests by (method, route pattern, status).
    /// Keyed by route first so a request's lookup borrows its `&str` and
    /// allocates nothing once its series exists: (method, status) pairs per
    /// route are few and scanned.
    pub http: Mutex<BTreeMap<String, Vec<HttpSeries>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            sessions: AtomicI64::new(0),
            presence_online: AtomicI64::new(0),
            presence_changes: Default::default(),
            events_published: Default::default(),
            frames_sent: AtomicU64::new(0),
            slow_consumers: AtomicU64::new(0),
            delivery_latency: Histogram::new(&LATENCY_BOUNDS),
            webhook_attempts: Default::default(),
            rate_limited: Mutex::new(BTreeMap::new()),
            http: Mutex::new(BTreeMap::new()),
        }
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn event_published(&self, kind: ActivityType) {
        if let Some(i) = ActivityType::ALL.iter().position(|t| *t == kind) {
            self.events_published[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn webhook_attempt(&self, outcome: &str) {
        if let Some(i) = WEBHOOK_OUTCOMES.iter().position(|o| *o == outcome) {
            self.webhook_attempts[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn rate_limited(&self, group: &str) {
        let mut map = self.rate_limited.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(group.to_owned()).or_default() += 1;
    }

    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let mut map = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let series = match map.get_mut(route) {
            Some(series) => series,
            None => map.entry(route.to_owned()).or_default(),
        };
        match series
            .iter()
            .position(|(m, s, _)| *s == status && m == method)
        {
            Some(i) => series[i].2.observe(took),
            None => {
                let h = Histogram::new(&HTTP_BOUNDS);
                h.observe(took);
                series.push((method.to_owned(), status, h));
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let o = &mut out;
        let _ = writeln!(
            o,
            "# HELP hub_sessions Open WebSocket sessions on this node."
        );
        let _ = writeln!(o, "# TYPE hub_sessions gauge");
        let _ = writeln!(o, "hub_sessions {}", self.sessions.load(Ordering::Relaxed));
        let _ = writeln!(
            o,
            "# HELP hub_presence_users_online Users with a session anywhere in the deployment, as presence last decided."
        );
        let _ = writeln!(o, "# TYPE hub_presence_users_online gauge");
        let _ = writeln!(
            o,
            "hub_presence_users_online {}",
            self.presence_online.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP hub_presence_changes_total Presence events decided, by status."
        );
        let _ = writeln!(o, "# TYPE hub_presence_changes_total counter");
        for (i, status) in ["online", "offline"].iter().enumerate() {
            let n = self.presence_changes[i].load(Ordering::Relaxed);
            let _ = writeln!(o, "hub_presence_changes_total{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP hub_events_published_total Activities stored, by type."
        );
        let _ = writeln!(o, "# TYPE hub_events_published_total counter");
        for (i, t) in ActivityType::ALL.iter().enumerate() {
            let n = self.events_published[i].load(Ordering::Relaxed);
            let _ = writeln!(
                o,
                "hub_events_published_total{{type=\"{}\"}} {n}",
                t.as_str()
            );
        }
        let _ = writeln!(
            o,
            "# HELP hub_frames_sent_total Frames handed to WebSocket sessions."
        );
        let _ = writeln!(o, "# TYPE hub_frames_sent_total counter");
        let _ = writeln!(
            o,
            "hub_frames_sent_total {}",
            self.frames_sent.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP hub_slow_consumers_total Sessions closed with 4008."
        );
        let _ = writeln!(o, "# TYPE hub_slow_consumers_total counter");
        let _ = writeln!(
            o,
            "hub_slow_consumers_total {}",
            self.slow_consumers.load(Ordering::Relaxed)
        );
        let _ = writeln!(o, "# HELP hub_delivery_latency_seconds From commit (cluster mode: arrival over pub/sub) to the event frame being written by its session.");
        let _ = writeln!(o, "# TYPE hub_delivery_latency_seconds histogram");
        self.delivery_latency
            .render(o, "hub_delivery_latency_seconds", "");
        let _ = writeln!(
            o,
            "# HELP hub_webhook_attempts_total Webhook delivery attempts, by outcome."
        );
        let _ = writeln!(o, "# TYPE hub_webhook_attempts_total counter");
        for (i, outcome) in WEBHOOK_OUTCOMES.iter().enumerate() {
            let n = self.webhook_attempts[i].load(Ordering::Relaxed);
            let _ = writeln!(o, "hub_webhook_attempts_total{{outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP hub_rate_limited_total Requests refused with 429, by route group."
        );
        let _ = writeln!(o, "# TYPE hub_rate_limited_total counter");
        for (group, n) in self
            .rate_limited
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                o,
                "hub_rate_limited_total{{group=\"{}\"}} {n}",
                escape(group)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hub_http_request_duration_seconds HTTP request latency, by route and status."
        );
        let _ = writeln!(o, "# TYPE hub_http_request_duration_seconds histogram");
        for (route, series) in self.http.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            for (method, status, h) in series {
                let labels = format!(
                    "method=\"{}\",route=\"{}\",status=\"{status}\"",
                    escape(method),
                    escape(route)
                );
                h.render(o, "hub_http_request_duration_seconds", &labels);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.delivery_latency.observe(Duration::from_micros(50));
        m.delivery_latency.observe(Duration::from_millis(2));
        m.delivery_latency.observe(Duration::from_secs(5));
        let text = m.render();
        assert!(
            text.contains("hub_delivery_latency_seconds_bucket{le=\"0.0001\"} 1"),
            "{text}"
        );
        assert!(text.contains("hub_delivery_latency_seconds_bucket{le=\"0.0025\"} 2"));
        assert!(text.contains("hub_delivery_latency_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("hub_delivery_latency_seconds_count 3"));
        m.http_request("GET", "/api/tasks/{id}", 200, Duration::from_millis(3));
        assert!(m
            .render()
            .contains("hub_http_request_duration_seconds_count{method=\"GET\",route=\"/api/tasks/{id}\",status=\"200\"} 1"));
    }
}
