//! A smoke test of `weir-bench state-size` (a tiny state, so that it never measures
//! anything): the command runs on every state backend and reports its line.

use std::process::Command;

fn state_size_reports_a_line(backend: &str) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weir-bench"));
    command.args(["state-size", "--state-mb", "1", "--updates", "2"]);
    for (key, value) in weir_state::testing::backend_options(backend) {
        command.arg("-D").arg(format!("{key}={value}"));
    }
    let out = command.output().unwrap();
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
