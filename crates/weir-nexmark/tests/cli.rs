//! `weir-nexmark generate` writes the events of the generator, in order, in either format.

use std::path::PathBuf;
use std::process::Command;

fn out_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("weir-nexmark-cli-{}-{name}", std::process::id()))
}

fn generate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir-nexmark"))
        .arg("generate")
        .args(args)
        .output()
        .expect("the weir-nexmark binary runs")
}

#[test]
fn generate_writes_one_line_per_event_in_each_format() {
    for format in ["json", "csv"] {
        let dir = out_dir(format);
        let out = generate(&[
            "--events",
            "1000",
            "--format",
            format,
            "--out",
            dir.to_str().unwrap(),
            "--threads",
            "2",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(dir.join(format!("events.{format}"))).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1000);
        let first = if format == "json" {
            "{\"event_type\":0,\"person\":{\"id\":1000,"
        } else {
            "0,\"1000;"
        };
        assert!(lines[0].starts_with(first), "{}", lines[0]);
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("{\"event_type\":2") || l.starts_with("2,"))
                .count(),
            920
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_bad_argument_is_a_message_not_a_panic() {
    let out = generate(&["--events", "10", "--rate", "0", "--out", "/tmp/never"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("Error: ") && stderr.contains("rate"),
        "{stderr}"
    );
}
