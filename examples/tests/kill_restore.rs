//! Exactly-once through process kills: `weir run exactly_once_sums` is SIGKILLed twice at
//! arbitrary moments and started again each time with `-s` from its newest retained
//! checkpoint; the finished part files at the end hold exactly the windows a reference
//! computed here from the generator's formula says, each once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EVENTS: u64 = 150_000;
const RATE: u64 = 50_000;
const KEYS: u64 = 7;

fn weir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_exactly_once_sums"))
        .parent()
        .unwrap()
        .to_path_buf();
    dir.join("weir")
}

/// `(key,window,sum)` for every window, sorted.
fn reference() -> Vec<String> {
    let mut sums: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for i in 0..EVENTS {
        *sums.entry((i % KEYS, i / 1_000)).or_default() += i;
    }
    let mut lines: Vec<String> = (sums.iter())
        .map(|((k, w), s)| format!("({k},{w},{s})"))
        .collect();
    lines.sort();
    lines
}

/// Lines of the finished (not hidden) part files, sorted.
fn finished_lines(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            let text = std::fs::read_to_string(&path).unwrap();
            lines.extend(text.lines().map(str::to_string));
        }
    }
    lines.sort();
    lines
}

/// The newest complete checkpoint (highest id with `_metadata`) of any job under `dir`.
fn newest_checkpoint(dir: &Path) -> Option<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    for job in std::fs::read_dir(dir).into_iter().flatten() {
        for chk in std::fs::read_dir(job.unwrap().path()).into_iter().flatten() {
            let path = chk.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let Some(id) = name
                .strip_prefix("chk-")
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if path.join("_metadata").is_file() && best.as_ref().is_none_or(|(b, _)| id > *b) {
                best = Some((id, path));
            }
        }
    }
    best.map(|(_, path)| path)
}

fn start(out: &Path, checkpoints: &Path, restore: Option<&Path>) -> Child {
    let mut cmd = Command::new(weir());
    cmd.arg("run").args(["-p", "2"]);
    if let Some(path) = restore {
        cmd.arg("-s").arg(path);
    }
    cmd.args(["-D", "execution.checkpointing.interval=200 ms"])
        .arg("-D")
        .arg(format!(
            "execution.checkpointing.dir=file://{}",
            checkpoints.display()
        ))
        .args([
            "-D",
            "execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
            "-D",
            "execution.checkpointing.num-retained=2",
        ])
        .arg("exactly_once_sums")
        .arg("--output")
        .arg(out)
        .args(["--events", &EVENTS.to_string(), "--rate", &RATE.to_string()])
        .env_remove("WEIR_CONF_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

#[test]
fn sigkilled_twice_and_restored_from_retained_checkpoints_writes_each_window_once() {
    let base = std::env::temp_dir().join(format!("weir-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (out, checkpoints) = (base.join("out"), base.join("checkpoints"));
    std::fs::create_dir_all(&out).unwrap();
    let mut restored_from = Vec::new();
    // Kill after these run times: a few checkpoints have completed by then.
    for kill_after in [Duration::from_millis(1_300), Duration::from_millis(900)] {
        let restore = newest_checkpoint(&checkpoints);
        let mut job = start(&out, &checkpoints, restore.as_deref());
        restored_from.push(restore);
        let started = Instant::now();
        while started.elapsed() < kill_after {
            assert!(
                job.try_wait().unwrap().is_none(),
                "the job ended before it was killed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        job.kill().unwrap(); // SIGKILL
        job.wait().unwrap();
    }
    let restore = newest_checkpoint(&checkpoints).expect("a checkpoint was retained");
    let last = start(&out, &checkpoints, Some(&restore));
    let result = last.wait_with_output().unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        restored_from[1].is_some(),
        "the second run should have restored from a checkpoint of the first"
    );
    assert_eq!(finished_lines(&out), reference());
    let _ = std::fs::remove_dir_all(&base);
}
