//! What the process used, from `/proc/self`: CPU time (user + system) and peak RSS.

use std::time::Instant;

/// Clock ticks per second of `/proc/self/stat` times (`getconf CLK_TCK`); 100 on every
/// Linux configuration Weir runs on.
const CLK_TCK: f64 = 100.0;

/// User and system CPU seconds of this process so far (all threads).
pub fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) is in parentheses and may contain spaces: parse after it.
    let after = stat.rfind(')').map(|i| &stat[i + 1..]).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state); utime and stime are fields 14 and 15.
    let tick = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
            / CLK_TCK
    };
    (tick(14), tick(15))
}

/// A `/proc/self/status` value in kB (`VmHWM`, `VmRSS`).
pub fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A measurement in progress: wall clock and CPU time since `start`.
pub struct Measurement {
    wall: Instant,
    cpu: (f64, f64),
}

/// What one run used.
pub struct Usage {
    pub wall_secs: f64,
    pub user_secs: f64,
    pub sys_secs: f64,
    pub peak_rss_kb: u64,
}

impl Measurement {
    pub fn start() -> Self {
        Measurement {
            cpu: cpu_seconds(),
            wall: Instant::now(),
        }
    }

    pub fn stop(self) -> Usage {
        let wall_secs = self.wall.elapsed().as_secs_f64();
        let (user, sys) = cpu_seconds();
        Usage {
            wall_secs,
            user_secs: user - self.cpu.0,
            sys_secs: sys - self.cpu.1,
            peak_rss_kb: status_kb("VmHWM"),
        }
    }
}

impl Usage {
    pub fn cpu_secs(&self) -> f64 {
        self.user_secs + self.sys_secs
    }

    /// The fixed-format report line: `NAME k=v ...`.
    pub fn line(&self, name: &str, params: &str, records: u64) -> String {
        let per = |secs: f64| {
            if secs > 0.0 {
                records as f64 / secs
            } else {
                f64::NAN
            }
        };
        format!(
            "{name} {params} records={records} secs={:.2} cpu_secs={:.2} (user={:.2} sys={:.2}) rec/s={} rec/s/core={} peak_rss={:.1}MB",
            self.wall_secs,
            self.cpu_secs(),
            self.user_secs,
            self.sys_secs,
            si(per(self.wall_secs)),
            si(per(self.cpu_secs())),
            self.peak_rss_kb as f64 / 1024.0,
        )
    }
}

/// `31.1M`, `850.2k`.
pub fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
