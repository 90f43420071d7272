//! The machine a run measured, as the report records it (read from /proc and uname).

use super::model::HostInfo;

impl HostInfo {
    /// This machine; fields that cannot be read are "unknown" (or 0), never an error.
    pub fn detect() -> HostInfo {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, model)| model.trim().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let memory_bytes = std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kib| kib * 1024);
        let read_trimmed = |path: &str| {
            std::fs::read_to_string(path)
                .map(|text| text.trim().to_string())
                .unwrap_or_else(|_| "unknown".to_string())
        };
        let os = std::fs::read_to_string("/etc/os-release")
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("PRETTY_NAME="))
            .map(|name| name.trim_matches('"').to_string())
            .unwrap_or_else(|| "unknown".to_string());
        HostInfo {
            hostname: read_trimmed("/proc/sys/kernel/hostname"),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get() as u32),
            cpu_model,
            memory_bytes,
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            os,
        }
    }
}
