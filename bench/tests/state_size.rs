//! A smoke test of `weir-bench state-size` (a tiny state, so that it never measures
//! anything): the command runs on every state backend and reports its line.

use std::process::Command;

fn state_size_reports_a_line(backend: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_weir-bench"))
        .args(["state-size", "--state-mb", "1", "--updates", "2", "-D"])
        .arg(format!("state.backend.type={backend}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("state-size p=1 state_mb=1 keys=2097 "),
        "{stdout}"
    );
}

weir_state::for_each_backend!(state_size_reports_a_line);
