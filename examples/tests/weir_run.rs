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

    assert_clean_failure(
        &run_on_input("sum_numbers", "1", "1\n2\nthree\n4\n", &[]),
        "operator 'Parse' (subtask 0) failed: 'three' is not a whole number",
    );
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

/// Runs `weir run -p P NAME --input FILE ARGS` with `input` written to FILE.
fn run_on_input(name: &str, parallelism: &str, input: &str, args: &[&str]) -> Output {
    let dir = temp_dir(name);
    let file = dir.join("input.txt");
    std::fs::write(&file, input).unwrap();
    let mut all_args = vec![
        "run",
        "-p",
        parallelism,
        name,
        "--input",
        file.to_str().unwrap(),
    ];
    all_args.extend(args);
    let out = run(&all_args);
    std::fs::remove_dir_all(dir).unwrap();
    out
}

/// [`run_on_input`], checking that it succeeded; returns the printed lines without their
/// `N> ` subtask prefixes, in the order printed.
fn run_example(name: &str, parallelism: &str, input: &str, args: &[&str]) -> Vec<String> {
    let out = run_on_input(name, parallelism, input, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_once("> ").map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

/// [`run_example`], with the printed `(key,number)` records grouped by key in printed order.
fn run_keyed_example(
    name: &str,
    parallelism: &str,
    input: &str,
    args: &[&str],
) -> BTreeMap<String, Vec<i64>> {
    let lines = run_example(name, parallelism, input, args).join("\n");
    let mut by_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (key, number) in parse_counts(lines.as_bytes()) {
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
        run_keyed_example("state_difference", "2", &as_text(&input), &[]),
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

    assert_clean_failure(
        &run_on_input("state_difference", "1", "a,1\nb;2\n", &[]),
        "operator 'Parse' (subtask 0) failed: 'b;2' is not a key,number line",
    );
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
        run_keyed_example(
            "average_filter",
            "2",
            &as_text(&input),
            &["--threshold", "7"]
        ),
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

    // Parallelism 1: with two source subtasks, when the idle one's end reaches the keyed
    // operator decides how early timers fire, so the printed counts would depend on timing.
    let printed = run_keyed_example(
        "event_time_timeout",
        "1",
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

/// [`run_example`] at parallelism 2.
fn run_window_example(name: &str, input: &str, args: &[&str]) -> Vec<String> {
    run_example(name, "2", input, args)
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[test]
fn event_time_wordcount_sums_each_words_tumbling_windows() {
    // Timestamps advance by up to 400 ms a line and are up to 1 s out of order: within the
    // bound of the watermarks, so no record is late.
    let mut rng = Rng(21);
    let mut clock = 1_700_000_000_000i64;
    let mut input = String::new();
    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    const WINDOW: i64 = 2_000;
    for _ in 0..5_000 {
        clock += rng.next(400) as i64;
        let word = format!("w{}", rng.next(15));
        let timestamp = clock - rng.next(1_001) as i64;
        let count = 1 + rng.next(5) as i64;
        input.push_str(&format!("{word},{timestamp},{count}\n"));
        let start = timestamp - timestamp.rem_euclid(WINDOW);
        *expected.entry((word, start)).or_default() += count;
    }
    let expected: Vec<String> = expected
        .into_iter()
        .map(|((word, start), count)| format!("({word},{start},{},{count})", start + WINDOW))
        .collect();
    assert!(expected.len() > 1_000);
    let printed = run_window_example("event_time_wordcount", &input, &["--window-ms", "2000"]);
    assert_eq!(sorted(printed), sorted(expected));

    assert_eq!(
        sorted(default_output("event_time_wordcount")),
        [
            "(hello,0,5000,4)",
            "(hello,5000,10000,1)",
            "(weir,5000,10000,2)",
            "(world,0,5000,1)"
        ]
    );

    assert_clean_failure(
        &run_on_input("event_time_wordcount", "1", "a,1000,1\nb,2000\n", &[]),
        "operator 'Parse' (subtask 0) failed: 'b,2000' is not a word,timestamp_ms,count line",
    );
}

#[test]
fn session_window_counts_each_users_sessions() {
    // Ascending timestamps; 12 users, so a user's clicks are on average 12 * 400 ms apart,
    // and a gap of more than 5 s between two of them starts a new session.
    const GAP: i64 = 5_000;
    let mut rng = Rng(22);
    let mut clock = 1_700_000_000_000i64;
    let mut input = String::new();
    let mut clicks: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for _ in 0..4_000 {
        clock += rng.next(800) as i64;
        let user = format!("user{}", rng.next(12));
        input.push_str(&format!("{user},{clock}\n"));
        clicks.entry(user).or_default().push(clock);
    }
    // Sessions: runs of clicks at most GAP apart (windows [t, t + GAP) that touch merge, as
    // in Flink); a session is [first click, last click + GAP).
    let mut expected = Vec::new();
    for (user, times) in &clicks {
        let mut start = 0;
        for i in 1..=times.len() {
            if i == times.len() || times[i] - times[i - 1] > GAP {
                let (first, last) = (times[start], times[i - 1]);
                expected.push(format!("({user},{first},{},{})", last + GAP, i - start));
                start = i;
            }
        }
    }
    assert!(
        expected.len() > 500 && expected.len() < 2_000,
        "{}",
        expected.len()
    );
    let printed = run_window_example("session_window", &input, &["--gap-ms", "5000"]);
    assert_eq!(sorted(printed), sorted(expected));

    assert_eq!(
        sorted(default_output("session_window")),
        [
            "(a,1000,4000,1)",
            "(a,10000,13000,1)",
            "(b,1000,8000,3)",
            "(c,11000,14000,1)",
            "(c,6000,9000,1)"
        ]
    );
}

/// Flink's TopSpeedWindowing by hand: per car, a global window keeps all events; an event
/// fires it when the car drove more than 50 m since the event that last fired (the first
/// event only sets that mark: DeltaTrigger); a firing first evicts the events not newer than
/// the newest timestamp - 10 s (TimeEvictor, for good), then prints the kept event with the
/// top speed, the earliest on ties (max_by). Events are `(car, speed, distance, timestamp)`.
fn top_speeds(events: &[(i32, i32, f64, i64)]) -> BTreeMap<i32, Vec<String>> {
    let mut kept: HashMap<i32, Vec<(i32, i32, f64, i64)>> = HashMap::new();
    let mut last_fired: HashMap<i32, f64> = HashMap::new();
    let mut out: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for &event in events {
        let (car, _, distance, _) = event;
        let window = kept.entry(car).or_default();
        window.push(event);
        // The first event of a car only sets the mark (its delta to itself is 0).
        let mark = *last_fired.entry(car).or_insert(distance);
        let fire = distance - mark > 50.0;
        if fire {
            last_fired.insert(car, distance);
        }
        if fire {
            let newest = window.iter().map(|e| e.3).max().unwrap();
            window.retain(|e| e.3 > newest - 10_000);
            let mut top = window[0];
            for e in &window[1..] {
                if e.1 > top.1 {
                    top = *e;
                }
            }
            let (car, speed, distance, timestamp) = top;
            out.entry(car)
                .or_default()
                .push(format!("({car},{speed},{distance},{timestamp})"));
        }
    }
    out
}

#[test]
fn top_speed_fires_on_distance_and_evicts_by_time() {
    // Two cars, 100 ms apart, 300 events each: car 0 accelerates to 100 km/h and then slows
    // to a crawl (so its early top speed is evicted after 10 s), car 1 drives a random walk.
    let mut rng = Rng(23);
    let mut events = Vec::new();
    let (mut speeds, mut distances) = ([50i32, 50], [0f64, 0.0]);
    for step in 0..300i64 {
        speeds[0] = if step < 60 {
            (speeds[0] + 5).min(100)
        } else {
            (speeds[0] - 5).max(5)
        };
        speeds[1] = if rng.next(2) == 0 {
            (speeds[1] + 5).min(100)
        } else {
            (speeds[1] - 5).max(0)
        };
        for car in 0..2 {
            distances[car] += f64::from(speeds[car]) / 3.6;
            events.push((car as i32, speeds[car], distances[car], 1_000 + step * 100));
        }
    }
    let input: String = events
        .iter()
        .map(|(car, speed, distance, ts)| format!("{car},{speed},{distance},{ts}\n"))
        .collect();
    let expected = top_speeds(&events);
    // Eviction shows: car 0's printed top speed falls from 100 once those events are gone.
    assert!(expected[&0].iter().any(|l| l.starts_with("(0,100,")));
    assert!(expected[&0].last().unwrap().starts_with("(0,5,"));

    let mut printed: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for line in run_window_example("top_speed", &input, &[]) {
        let car = line[1..].split(',').next().unwrap().parse().unwrap();
        printed.entry(car).or_default().push(line);
    }
    assert_eq!(printed, expected);

    // The built-in generator: deterministic, every car fires.
    let default = default_output("top_speed");
    assert!(default.len() > 100);
    assert_eq!(default, default_output("top_speed"));
    let out = run(&["run", "top_speed", "--cars", "3", "--events", "200"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for car in ["(0,", "(1,", "(2,"] {
        assert!(stdout.lines().any(|l| l.starts_with(car)), "{stdout}");
    }
}

#[test]
fn socket_window_wordcount_prints_counts_when_a_window_ends() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = Command::new(weir())
        .args([
            "run",
            "socket_window_wordcount",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (send, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines() {
            let _ = send.send(line.unwrap());
        }
    });

    // Send early in a 5 s window (they are aligned to the epoch), so all words land in one.
    let since_epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    let into_window = since_epoch() % 5_000;
    if into_window > 2_500 {
        std::thread::sleep(Duration::from_millis((5_100 - into_window) as u64));
    }
    conn.write_all(b"hello world\nhello  weir\n\nweir hello\n")
        .unwrap();

    // The window fires at its end: keep the connection open until then.
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while printed.len() < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(_) => panic!("the window did not fire in time; printed: {printed:?}"),
        }
    }
    assert_eq!(sorted(printed), ["(hello,3)", "(weir,2)", "(world,1)"]);

    // Words of a window that is still open when the socket closes are never printed. The
    // window fired at its last millisecond (end - 1, as in Flink): wait to be in the next.
    std::thread::sleep(Duration::from_millis(200));
    conn.write_all(b"unfired\n").unwrap();
    drop(conn);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    reader.join().unwrap();
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(rest.is_empty(), "{rest:?}");
}
