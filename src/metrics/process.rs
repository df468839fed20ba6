//! The process's own CPU time, memory and file descriptors, read at each scrape.

use prometheus::{Gauge, IntGauge, Registry};

/// The process gauges; the `prometheus` crate's `process` feature needs
/// `procfs`, which is not in this build's crate set, and these four are
/// what it would give (`getrusage` and `/proc/self`, Linux).
pub(super) struct Process {
    cpu_seconds: Gauge,
    resident_bytes: IntGauge,
    open_fds: IntGauge,
    max_fds: IntGauge,
}

impl Process {
    pub(super) fn register(registry: &Registry) -> prometheus::Result<Self> {
        let cpu_seconds = Gauge::new(
            "process_cpu_seconds",
            "CPU time the process has used, user and system, in seconds (a counter: use rate())",
        )?;
        let resident_bytes = IntGauge::new(
            "process_resident_memory_bytes",
            "Resident memory of the process (VmRSS), in bytes",
        )?;
        let open_fds = IntGauge::new("process_open_fds", "File descriptors open now")?;
        let max_fds = IntGauge::new(
            "process_max_fds",
            "The open-file limit (soft) the process runs under",
        )?;
        registry.register(Box::new(cpu_seconds.clone()))?;
        registry.register(Box::new(resident_bytes.clone()))?;
        registry.register(Box::new(open_fds.clone()))?;
        registry.register(Box::new(max_fds.clone()))?;
        Ok(Self {
            cpu_seconds,
            resident_bytes,
            open_fds,
            max_fds,
        })
    }

    /// Reads the values now; one that cannot be read keeps its last value.
    pub(super) fn update(&self) {
        use nix::sys::resource::{Resource, UsageWho, getrlimit, getrusage};
        if let Ok(usage) = getrusage(UsageWho::RUSAGE_SELF) {
            let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            self.cpu_seconds
                .set(secs(usage.user_time()) + secs(usage.system_time()));
        }
        if let Some(kib) = resident_kib() {
            self.resident_bytes.set(kib.saturating_mul(1024));
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            // The directory's own descriptor is listed too.
            let open = dir.count().saturating_sub(1);
            self.open_fds.set(i64::try_from(open).unwrap_or(i64::MAX));
        }
        if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_NOFILE) {
            self.max_fds.set(i64::try_from(soft).unwrap_or(i64::MAX));
        }
    }
}

/// `VmRSS` of `/proc/self/status`, in KiB.
fn resident_kib() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
