//! What `/proc` says about a process: resident memory and CPU time.

/// `/proc/PID/stat` counts CPU time in USER_HZ ticks, 100 per second on Linux.
const TICKS_PER_SEC: f64 = 100.0;

/// `VmRSS` of `pid` in KiB, when a pid was given.
pub(crate) fn rss_kib(pid: Option<u32>) -> Result<Option<u64>, String> {
    let Some(pid) = pid else { return Ok(None) };
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("read {path}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .map(Some)
        .ok_or_else(|| format!("no VmRSS line in {path}"))
}

/// `VmHWM` (peak resident memory) of `pid` in KiB, when readable.
pub(crate) fn peak_rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds of `who` (`"self"` or a pid) so far, when readable.
pub(crate) fn cpu_secs(who: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{who}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // utime is field 14
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// CPU use in percent of one core between two [`cpu_secs`] readings.
pub(crate) fn cpu_pct(before: Option<f64>, after: Option<f64>, wall_secs: f64) -> Option<f64> {
    Some((after? - before?) / wall_secs.max(1e-9) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_cpu_time_and_memory() {
        assert!(cpu_secs("self").is_some_and(|s| s >= 0.0));
        let rss = rss_kib(Some(std::process::id())).ok().flatten();
        assert!(rss.is_some_and(|kib| kib > 0));
    }
}
