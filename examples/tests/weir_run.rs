//! End to end through the `weir` binary: `weir run` starts the example programs as separate
//! processes. Checks results against references computed here, exit codes, error messages
//! without panics or backtraces, Ctrl-C, and the socket word count.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `weir` binary, built next to the examples by `cargo test --workspace`.
fn weir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_wordcount"))
        .parent()
        .unwrap()
        .to_path_buf();
    let weir = dir.join("weir");
    assert!(
        weir.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`",
        weir.display()
    );
    weir
}

fn run(args: &[&str]) -> Output {
    Command::new(weir())
        .args(args)
        .env_remove("WEIR_CONF_DIR")
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weir-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Checks a failed run: exit code 1, the expected message, no panic.
fn assert_clean_failure(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected '{expected}' in: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "a panic leaked: {stderr}"
    );
}

/// Parses `(word,count)` lines, with or without a `N> ` subtask prefix.
fn parse_counts(stdout: &[u8]) -> Vec<(String, i64)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            let l = l.split_once("> ").map_or(l, |(_, rest)| rest);
            let (w, c) = l
                .trim_start_matches('(')
                .trim_end_matches(')')
                .rsplit_once(',')
                .unwrap();
            (w.to_string(), c.parse().unwrap())
        })
        .collect()
}

#[test]
fn wordcount_final_counts_through_weir_run() {
    let dir = temp_dir("wc");
    let input = dir.join("in.txt");
    let mut text = String::new();
    for i in 0..20_000u64 {
        text.push_str(&format!(
            "Alpha beta{} gamma_{} -- Delta!\n",
            i % 37,
            (i * 7919) % 101
        ));
    }
    std::fs::write(&input, &text).unwrap();
    let mut expected: HashMap<String, i64> = HashMap::new();
    for w in text
        .to_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
    {
        *expected.entry(w.to_string()).or_default() += 1;
    }

    let out = run(&[
        "run",
        "-p",
        "3",
        "wordcount",
        "--input",
        input.to_str().unwrap(),
        "--final",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .all(|l| ["1> ", "2> ", "3> "].iter().any(|p| l.starts_with(p))),
        "subtask prefixes at -p 3"
    );
    let counts = parse_counts(&out.stdout);
    assert_eq!(counts.len(), expected.len(), "one final count per word");
    assert_eq!(counts.into_iter().collect::<HashMap<_, _>>(), expected);

    // -p ranks above -D parallelism.default; streaming mode prints every update.
    let out = run(&[
        "run",
        "-D",
        "parallelism.default=2",
        "-p",
        "1",
        "wordcount",
        "--input",
        input.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let updates = parse_counts(&out.stdout);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("> "),
        "no prefix at parallelism 1"
    );
    assert_eq!(updates.len() as i64, expected.values().sum::<i64>());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_default_wordcount_runs_without_arguments() {
    let out = run(&["run", "wordcount"]);
    assert!(out.status.success());
    let counts = parse_counts(&out.stdout);
    assert!(
        counts.contains(&("to".to_string(), 1)) && counts.iter().any(|(w, c)| w == "the" && *c > 1)
    );
}

#[test]
fn bad_input_ends_with_a_clear_message() {
    assert_clean_failure(
        &run(&["run", "wordcount", "--input", "/no/such/file.txt"]),
        "cannot read text file '/no/such/file.txt'",
    );

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    assert_clean_failure(
        &run(&[
            "run",
            "socket_wordcount",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port,
        ]),
        &format!("cannot connect to socket 127.0.0.1:{port}"),
    );

    assert_clean_failure(
        &run(&["run", "-D", "parallelism.default=many", "wordcount"]),
        "invalid value 'many' for configuration key 'parallelism.default'",
    );
    assert_clean_failure(
        &run(&["run", "-D", "nokeyvalue", "wordcount"]),
        "nokeyvalue",
    );
    assert_clean_failure(
        &run(&["run", "no_such_program"]),
        "cannot find the job program 'no_such_program'",
    );

    let dir = temp_dir("numbers");
    let numbers = dir.join("numbers.txt");
    std::fs::write(&numbers, "1\n2\nthree\n4\n").unwrap();
    assert_clean_failure(
        &run(&["run", "sum_numbers", "--input", numbers.to_str().unwrap()]),
        "operator 'Parse' (subtask 0) failed: 'three' is not a whole number",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_config_file_sets_defaults_and_unknown_keys_warn() {
    let dir = temp_dir("conf");
    std::fs::write(
        dir.join("config.yaml"),
        "parallelism:\n  default: 2\nparallelizm.default: 3\n",
    )
    .unwrap();
    let out = Command::new(weir())
        .args(["run", "wordcount", "--final"])
        .env("WEIR_CONF_DIR", &dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("unknown configuration key 'parallelizm.default'"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.starts_with("2> ")),
        "parallelism 2 from config.yaml"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn socket_wordcount_counts_lines_and_stops_on_ctrl_c() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new(weir())
            .args([
                "run",
                "socket_wordcount",
                "--hostname",
                "127.0.0.1",
                "--port",
                &port,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let (mut conn, _) = listener.accept().unwrap();
    conn.write_all(b"hello world\nhello weir\n").unwrap();

    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while lines.len() < 4 && Instant::now() < deadline {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_string());
    }
    lines.sort();
    assert_eq!(
        lines,
        vec!["(hello,1)", "(hello,2)", "(weir,1)", "(world,1)"]
    );

    // Ctrl-C goes to the whole process group: the job cancels, weir waits for it.
    let pgid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", "--", &format!("-{pgid}")])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancel"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn backpressure_demo_reports_back_pressure() {
    let out = run(&[
        "run",
        "-D",
        "metrics.reporter.log.interval=1 s",
        "backpressure",
        "--rate",
        "100",
        "--always-slow",
        "--seconds",
        "4",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The generator's task (it sends 100/s to a map that manages 10/s) is back-pressured.
    let source_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("Source: ClickEvent Generator"))
        .collect();
    let last = source_lines
        .last()
        .expect("metrics of the source task are logged");
    let value = |name: &str| -> f64 {
        let start = last.find(&format!("{name}=")).unwrap() + name.len() + 1;
        last[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(value("backPressuredTimeMsPerSecond") > 500.0, "{last}");
}

/// A small deterministic generator (xorshift64*): `next(n)` is below `n`.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Runs `weir run -p 2 NAME --input FILE ARGS` on `input`, checks that it succeeded, and
/// returns the printed `(key,number)` records by key, in the order printed.
fn run_keyed_example(name: &str, input: &str, args: &[&str]) -> BTreeMap<String, Vec<i64>> {
    let dir = temp_dir(name);
    let file = dir.join("input.txt");
    std::fs::write(&file, input).unwrap();
    let mut all_args = vec!["run", "-p", "2", name, "--input", file.to_str().unwrap()];
    all_args.extend(args);
    let out = run(&all_args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
    let mut by_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (key, number) in parse_counts(&out.stdout) {
        by_key.entry(key).or_default().push(number);
    }
    by_key
}

/// The lines printed by `weir run NAME` without arguments (its built-in example).
fn default_output(name: &str) -> Vec<String> {
    let out = run(&["run", name]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// `lines` random `key,number` lines over `keys` keys with numbers in `0..max`.
fn key_number_lines(lines: usize, keys: u64, max: u64, seed: u64) -> Vec<(String, i64)> {
    let mut rng = Rng(seed | 1);
    (0..lines)
        .map(|_| (format!("k{}", rng.next(keys)), rng.next(max) as i64))
        .collect()
}

fn as_text(records: &[(String, i64)]) -> String {
    records.iter().map(|(k, n)| format!("{k},{n}\n")).collect()
}

#[test]
fn state_difference_prints_each_keys_differences() {
    let input = key_number_lines(5_000, 30, 2_000, 11);
    let mut expected: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut previous: HashMap<&str, i64> = HashMap::new();
    for (key, number) in &input {
        let difference = number - previous.get(key.as_str()).unwrap_or(&0);
        previous.insert(key, *number);
        expected.entry(key.clone()).or_default().push(difference);
    }
    assert_eq!(
        run_keyed_example("state_difference", &as_text(&input), &[]),
        expected
    );
    assert_eq!(
        default_output("state_difference"),
        [
            "(key,18)",
            "(key,2)",
            "(other,5)",
            "(key,5)",
            "(other,-2)",
            "(key,3)"
        ]
    );

    let dir = temp_dir("difference-bad");
    let file = dir.join("bad.txt");
    std::fs::write(&file, "a,1\nb;2\n").unwrap();
    assert_clean_failure(
        &run(&["run", "state_difference", "--input", file.to_str().unwrap()]),
        "operator 'Parse' (subtask 0) failed: 'b;2' is not a key,number line",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn average_filter_passes_numbers_far_from_the_keys_average() {
    let input = key_number_lines(4_000, 25, 100, 12);
    let mut expected: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut seen: HashMap<&str, Vec<i64>> = HashMap::new();
    for (key, number) in &input {
        let numbers = seen.entry(key).or_default();
        numbers.push(*number);
        let average = numbers.iter().sum::<i64>() / numbers.len() as i64;
        if numbers.len() == 1 || (number - average).abs() > 7 {
            expected.entry(key.clone()).or_default().push(*number);
        }
    }
    assert_eq!(
        run_keyed_example("average_filter", &as_text(&input), &["--threshold", "7"]),
        expected
    );
    // The seed's example: 18 passes as the first, 36 differs from the average 24 by 12.
    assert_eq!(
        default_output("average_filter"),
        ["(key,18)", "(other,1)", "(other,30)", "(key,36)"]
    );
}

#[test]
fn event_time_timeout_counts_keys_after_a_minute_without_records() {
    // Timestamps advance by up to 3 s a line, now and then by 100 s, and are up to 2 s out
    // of order (within --out-of-orderness-ms).
    let mut rng = Rng(13);
    let mut clock = 1_700_000_000_000i64;
    let input: Vec<(String, i64)> = (0..4_000)
        .map(|_| {
            clock += rng.next(3_000) as i64;
            if rng.next(150) == 0 {
                clock += 100_000;
            }
            (format!("k{}", rng.next(20)), clock - rng.next(2_000) as i64)
        })
        .collect();

    // Replays the job: per key count and latest timestamp; the watermark after each line is
    // the highest timestamp - 2000 - 1; timers at or below it fire in time order.
    const TIMEOUT: i64 = 60_000;
    let mut state: HashMap<&str, (i64, i64)> = HashMap::new();
    let mut timers: BTreeSet<(i64, &str)> = BTreeSet::new();
    let (mut max, mut watermark) = (i64::MIN, i64::MIN);
    let mut expected = Vec::new();
    let mut fire =
        |until: i64, timers: &mut BTreeSet<(i64, &str)>, state: &HashMap<&str, (i64, i64)>| {
            while let Some(&(time, key)) = timers.first().filter(|(t, _)| *t <= until) {
                timers.remove(&(time, key));
                let (count, last) = state[key];
                if time == last + TIMEOUT {
                    expected.push((key.to_string(), count));
                }
            }
        };
    for (key, timestamp) in &input {
        let entry = state.entry(key).or_insert((0, 0));
        *entry = (entry.0 + 1, *timestamp);
        timers.insert((timestamp + TIMEOUT, key));
        max = max.max(*timestamp);
        if max - 2_001 > watermark {
            watermark = max - 2_001;
            fire(watermark, &mut timers, &state);
        }
    }
    fire(i64::MAX, &mut timers, &state);
    expected.sort();
    assert!(
        expected.len() > 100,
        "timeouts in the middle of the input too"
    );

    let printed = run_keyed_example(
        "event_time_timeout",
        &as_text(&input),
        &["--out-of-orderness-ms", "2000"],
    );
    let mut printed: Vec<(String, i64)> = printed
        .into_iter()
        .flat_map(|(key, counts)| counts.into_iter().map(move |c| (key.clone(), c)))
        .collect();
    printed.sort();
    assert_eq!(printed, expected);
    assert_eq!(
        default_output("event_time_timeout"),
        ["(a,2)", "(c,1)", "(b,3)", "(a,3)"]
    );
}
