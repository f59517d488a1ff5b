//! Time stamps and latency histograms.
//!
//! The publisher and the WebSocket readers live in this one process, so the
//! publish→receive latency is measured on one clock: [`now_ns`] is the Unix
//! time at start plus a monotonic `Instant` offset (never steps backwards, yet
//! reads like a Unix time in the activity's metadata).

use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Largest latency recorded: 60 s, in nanoseconds. Anything slower is
/// clamped there (and is a miss by any measure).
const MAX_TRACKED_NS: u64 = 60_000_000_000;
/// Three significant digits: 1 µs resolution at 1 ms.
const SIGFIGS: u8 = 3;
/// Readers record into one of this many histograms, chosen by session, so
/// tens of thousands of sessions on two threads rarely contend for a lock.
const SHARDS: usize = 32;

fn anchor() -> &'static (Instant, u64) {
    // One anchor for the whole process: every stamp and every receipt must be
    // on the same clock, and threading it through every task adds nothing.
    static ANCHOR: OnceLock<(Instant, u64)> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        (Instant::now(), unix)
    })
}

/// Monotonic nanoseconds that read like Unix time (see the module docs).
pub fn now_ns() -> u64 {
    let (at, unix) = anchor();
    unix + at.elapsed().as_nanos() as u64
}

/// A fresh histogram of nanoseconds.
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, MAX_TRACKED_NS, SIGFIGS).expect("valid histogram bounds")
}

/// A histogram many tasks record into at once.
pub struct Recorder {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
        }
    }
}

impl Recorder {
    /// Records `ns` into the shard of `key` (a session or task number).
    pub fn record(&self, key: usize, ns: u64) {
        let shard = &self.shards[key % SHARDS];
        // A poisoned shard only means a reader panicked; its counts are still good.
        let mut h = shard.lock().unwrap_or_else(|e| e.into_inner());
        h.saturating_record(ns.clamp(1, MAX_TRACKED_NS));
    }

    /// Everything recorded so far, merged.
    pub fn merged(&self) -> Histogram<u64> {
        let mut all = histogram();
        for shard in &self.shards {
            let h = shard.lock().unwrap_or_else(|e| e.into_inner());
            // Same bounds everywhere: adding cannot fail.
            let _ = all.add(&*h);
        }
        all
    }

    /// Empties every shard (to drop a warm-up).
    pub fn reset(&self) {
        for shard in &self.shards {
            shard.lock().unwrap_or_else(|e| e.into_inner()).reset();
        }
    }
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1_000.0).round() / 1_000.0
}

impl Summary {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: (h.mean() / 1_000.0).round() / 1_000.0,
        }
    }

    /// One human line: `label  n=…  p50 … p90 … p99 … p99.9 … max … ms`.
    pub fn line(&self, label: &str) -> String {
        format!(
            "{label:<28} n={:<9} p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  (ms)",
            self.count, self.p50, self.p90, self.p99, self.p999, self.max
        )
    }

    pub fn json(&self) -> Value {
        json!({
            "count": self.count,
            "p50_ms": self.p50,
            "p90_ms": self.p90,
            "p99_ms": self.p99,
            "p999_ms": self.p999,
            "max_ms": self.max,
            "mean_ms": self.mean,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_unix_like() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
        // After 2020-01-01.
        assert!(a > 1_577_836_800_000_000_000);
    }

    #[test]
    fn summary_percentiles() {
        let r = Recorder::default();
        for i in 1..=1000u64 {
            r.record(i as usize, i * 1_000); // 1 µs .. 1 ms
        }
        let s = Summary::of(&r.merged());
        assert_eq!(s.count, 1000);
        assert!((s.p50 - 0.5).abs() < 0.01, "{s:?}");
        assert!((s.p99 - 0.99).abs() < 0.01, "{s:?}");
        assert!((s.max - 1.0).abs() < 0.01, "{s:?}");
        assert_eq!(Summary::of(&histogram()).count, 0);
    }
}
