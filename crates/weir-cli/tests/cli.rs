//! The `weir` command line itself: its verbs and the checks `weir run` makes before it starts
//! a job. (Jobs started through `weir run` are tested with the examples.)

use std::process::{Command, Output};

fn weir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn help_lists_the_verbs() {
    let out = weir(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("run") && help.contains("Runs a job program"),
        "{help}"
    );
}

#[test]
fn run_checks_its_options_before_starting_anything() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["run", "-p", "0", "x"],
            "parallelism (-p) must be at least 1",
        ),
        (
            &["run", "-D", "pipeline.max-parallelism=lots", "x"],
            "invalid value 'lots' for configuration key 'pipeline.max-parallelism'",
        ),
        (&["run", "-D", "missing-equals", "x"], "missing-equals"),
        (
            &["run", "/no/such/job"],
            "cannot find the job program '/no/such/job'",
        ),
    ];
    for (args, expected) in cases {
        let out = weir(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn run_passes_arguments_properties_and_exit_code_to_the_job() {
    let dir = std::env::temp_dir().join(format!("weir-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let job = dir.join("job.sh");
    std::fs::write(
        &job,
        "#!/bin/sh\necho \"args=$*\"\necho \"props=$WEIR_DYNAMIC_PROPERTIES\"\nexit 3\n",
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&job).status().unwrap();
    let out = weir(&[
        "run",
        "-p",
        "2",
        "-D",
        "a.b=c",
        job.to_str().unwrap(),
        "--input",
        "x",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout.contains("args=--input x"), "{stdout}");
    assert!(
        stdout.contains("props=a.b=c\nparallelism.default=2"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_sql_script_with_a_print_sink_prints_its_rows() {
    let script = std::env::temp_dir().join(format!("weir-cli-print-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        "CREATE TABLE out (a INT, b STRING) WITH ('connector' = 'print');\n\
         INSERT INTO out VALUES (1, 'x'), (2, 'y');\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["sql", "-f", script.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("`weir sql -f` with a print sink did not finish");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("+I[1, x]\n+I[2, y]"), "{printed}");
    let _ = std::fs::remove_file(&script);
}
