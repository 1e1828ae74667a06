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

/// `weir sql -f` with an INSERT into a `print` table: the job's rows reach standard output
/// and the client ends (it used to hold standard output's lock while it waited for the job,
/// which the print sink waited for).
#[test]
fn sql_prints_the_rows_of_a_print_sink() {
    let dir = std::env::temp_dir().join(format!("weir-cli-sql-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("print.sql");
    std::fs::write(
        &script,
        "CREATE TABLE out (k INT, n BIGINT) WITH ('connector' = 'print');\n\
         INSERT INTO out SELECT k, COUNT(*) FROM (VALUES (1), (2), (1)) AS t(k) GROUP BY k;\n",
    )
    .unwrap();
    let out = weir(&["sql", "-f", &script.display().to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in ["+I[1, 1]", "+I[2, 1]", "-U[1, 1]", "+U[1, 2]"] {
        assert!(stdout.contains(row), "missing {row}:\n{stdout}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The interactive client on a real terminal (a pseudo-terminal from `script`): a statement is
/// recalled from the history with the up arrow and run again, and the history file keeps it.
#[test]
fn the_interactive_client_recalls_statements_from_its_history() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let dir = std::env::temp_dir().join(format!("weir-cli-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("history");
    let command = format!(
        "{} sql --history {}",
        env!("CARGO_BIN_EXE_weir"),
        history.display()
    );
    let mut child = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) makes the pseudo-terminal");
    let screen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let screen = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    // Waits until the screen shows `text` `times` times (the client is ready for input).
    let wait_for = |text: &str, times: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while screen.lock().unwrap().matches(text).count() < times {
            assert!(Instant::now() < deadline, "waited for {text:?} x{times}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let answer = "|                   42 |";
    wait_for("Weir SQL> ", 1);
    stdin.write_all(b"SELECT 41 + 1 AS answer;\r").unwrap();
    wait_for(answer, 1);
    wait_for("Weir SQL> ", 2);
    stdin.write_all(b"\x1b[A\r").unwrap(); // up arrow: the last statement again
    wait_for(answer, 2);
    wait_for("Weir SQL> ", 3);
    stdin.write_all(b"quit;\r").unwrap();
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("SELECT 41 + 1 AS answer;"), "{saved}");
    let _ = std::fs::remove_dir_all(&dir);
}
