//! What the bench reads from the operating system: the hub's resident memory
//! and CPU time from `/proc/<pid>`, and the open-files limit of this process.

/// Clock ticks per second of `/proc/<pid>/stat` times. 100 on every Linux
/// this runs on; reading it for real needs `sysconf` (unsafe FFI).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// `VmRSS` of a process, in KiB (None if it is gone or not Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds a process has used so far.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after its `)` are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `)`.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS_PER_SEC)
}

/// CPU use of a process between two points, as a share of one core.
pub struct CpuMeter {
    pid: Option<u32>,
    start_cpu: f64,
    start: std::time::Instant,
}

impl CpuMeter {
    pub fn start(pid: Option<u32>) -> Self {
        Self {
            pid,
            start_cpu: pid.and_then(cpu_seconds).unwrap_or(0.0),
            start: std::time::Instant::now(),
        }
    }

    /// Cores used on average since `start` (1.0 = one core busy), if known.
    pub fn cores(&self) -> Option<f64> {
        let now = cpu_seconds(self.pid?)?;
        let wall = self.start.elapsed().as_secs_f64();
        (wall > 0.0).then(|| ((now - self.start_cpu) / wall * 100.0).round() / 100.0)
    }
}

/// Raises this process's soft open-files limit to the hard one (tens of
/// thousands of sockets need it); returns the limit now in force. A spawned
/// hub inherits it.
pub fn raise_nofile_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|_| {
        rlimit::Resource::NOFILE
            .get()
            .map(|(soft, _)| soft)
            .unwrap_or(1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        assert!(cpu_seconds(pid).is_some());
        assert!(raise_nofile_limit() >= 1024);
    }
}
