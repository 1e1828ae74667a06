//! The operations playground, automated: the generator and the ClickEventCount job with
//! checkpointing run through `weir run` against a real broker; the job process is killed
//! with SIGKILL twice at random moments and restarted each time from its latest retained
//! checkpoint. With the exactly-once sink, a `read_committed` consumer of `output` must then
//! see every window of every page exactly once, each with a count of exactly 1000; with the
//! at-least-once sink, every window at least once, each copy with a count of 1000.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use weir_playground::{ClickEventStatistics, CLICKS_PER_WINDOW, PAGES, WINDOW};

/// Complete windows the generator fills (it writes one more, which never closes).
const WINDOWS: u64 = 10;

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `weir` binary next to the playground's programs (built by `cargo test --workspace`).
fn weir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_click_event_count"))
        .parent()
        .unwrap();
    let weir = dir.join("weir");
    assert!(
        weir.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`",
        weir.display()
    );
    weir
}

/// Starts Tansu on a free port; returns it and its address.
fn start_broker() -> (Process, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(root().join("scripts/kafka-broker.sh"))
        .args(["exec", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let broker = Process(child);
    let bootstrap = format!("127.0.0.1:{port}");
    let started = Instant::now();
    while TcpStream::connect(&bootstrap).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the broker did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (broker, bootstrap)
}

/// `weir run [weir_args] program [args]`, output appended to `log`.
fn weir_run(weir_args: &[String], program: &str, args: &[&str], log: &Path) -> Process {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = Command::new(weir())
        .arg("run")
        .args(weir_args)
        .arg(program)
        .args(args)
        .env_remove("WEIR_CONF_DIR")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Process(child)
}

/// The newest complete checkpoint under `dir` (`<job-id>/chk-<n>` with a `_metadata` file).
fn latest_checkpoint(dir: &Path) -> Option<PathBuf> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for job in std::fs::read_dir(dir).ok()?.flatten() {
        for chk in std::fs::read_dir(job.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = chk.file_name().to_string_lossy().to_string();
            let metadata = chk.path().join("_metadata");
            if let (true, Ok(meta)) = (name.starts_with("chk-"), std::fs::metadata(&metadata)) {
                let modified = meta.modified().unwrap();
                if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                    newest = Some((modified, chk.path()));
                }
            }
        }
    }
    newest.map(|(_, path)| path)
}

/// Every value of the one-partition topic `topic`, read with `read_committed` to its end.
fn read_committed(bootstrap: &str, topic: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "playground-test")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&list).unwrap();
    let mut values = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                values.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
            }
            Some(Err(KafkaError::PartitionEOF(_))) => return values,
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
    panic!("reading {topic} did not reach its end within 30 s");
}

/// A pseudo-random duration in `[min, max)` ms.
fn random_ms(min: u64, max: u64) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    Duration::from_millis(min + nanos % (max - min))
}

/// The counts `output` holds per (window start, page) after the playground ran with the
/// sink's `guarantee` and two kills of the job process; checks every window's length.
fn counts_after_two_process_kills(guarantee: &str) -> BTreeMap<(i64, String), Vec<u64>> {
    // One playground at a time: each runs a broker, a generator and a job.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (_broker, bootstrap) = start_broker();
    let dir = std::env::temp_dir().join(format!(
        "weir-playground-{}-{guarantee}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let checkpoints = dir.join("checkpoints");
    std::fs::create_dir_all(&checkpoints).unwrap();
    let log = dir.join("log.txt");
    // 4000 clicks/s: event time runs 10 times faster than the clock (about 40 s of event
    // time per 4 s), so the 11 windows take about 16 s to generate.
    let count = (WINDOWS + 1) * CLICKS_PER_WINDOW * PAGES.len() as u64;
    let generator_args = [
        "--bootstrap",
        &bootstrap,
        "--rate",
        "4000",
        "--count",
        &count.to_string(),
        "--start-ms",
        "0",
    ];
    let mut generator = weir_run(&[], "click_event_generator", &generator_args, &log);
    // The generator creates the topics; give it a moment before the job reads them.
    std::thread::sleep(Duration::from_secs(2));
    let job_args = [
        "--bootstrap",
        &bootstrap,
        "--checkpointing",
        "--event-time",
        "--delivery-guarantee",
        guarantee,
    ];
    let config = |restore: Option<&Path>| {
        let args: Vec<String> = [
            "execution.checkpointing.interval=300 ms".to_string(),
            format!("execution.checkpointing.dir={}", checkpoints.display()),
            "execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION"
                .to_string(),
        ]
        .into_iter()
        .chain(restore.map(|p| format!("execution.savepoint.path={}", p.display())))
        .flat_map(|property| ["-D".to_string(), property])
        .collect();
        args
    };
    let mut job = weir_run(&config(None), "click_event_count", &job_args, &log);
    for kill in 1..=2 {
        std::thread::sleep(random_ms(3000, 6000));
        job.0.kill().unwrap(); // SIGKILL
        job.0.wait().unwrap();
        let restore = latest_checkpoint(&checkpoints).unwrap_or_else(|| {
            panic!(
                "no complete checkpoint before kill {kill}; log in {}",
                log.display()
            )
        });
        eprintln!("kill {kill}: restarting from {}", restore.display());
        job = weir_run(
            &config(Some(&restore)),
            "click_event_count",
            &job_args,
            &log,
        );
    }
    // Wait for every window, then a little longer for duplicates to show.
    let expected_windows = WINDOWS as usize * PAGES.len();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline
        && counts_per_window(&read_committed(&bootstrap, "output")).len() < expected_windows
    {
        std::thread::sleep(Duration::from_secs(1));
    }
    std::thread::sleep(Duration::from_secs(2));
    let output = read_committed(&bootstrap, "output");
    drop(job);
    let _ = generator.0.wait();
    let seen = counts_per_window(&output);
    eprintln!("{} results, log in {}", output.len(), log.display());
    let _ = std::fs::remove_dir_all(&dir);
    seen
}

/// The counts of the JSON window results per (window start, page); checks each window's
/// length.
fn counts_per_window(output: &[String]) -> BTreeMap<(i64, String), Vec<u64>> {
    let mut seen: BTreeMap<(i64, String), Vec<u64>> = BTreeMap::new();
    for value in output {
        let stats: ClickEventStatistics = serde_json::from_str(value).unwrap();
        assert_eq!(
            stats.window_end - stats.window_start,
            WINDOW.as_millis() as i64
        );
        seen.entry((stats.window_start, stats.page))
            .or_default()
            .push(stats.count);
    }
    seen
}

/// Every complete window of every page, each with `copies` counts of 1000.
fn every_window(copies: impl Fn(&(i64, String)) -> usize) -> BTreeMap<(i64, String), Vec<u64>> {
    (0..WINDOWS as i64)
        .flat_map(|w| {
            PAGES
                .iter()
                .map(move |p| (w * WINDOW.as_millis() as i64, p.to_string()))
        })
        .map(|window| {
            let counts = vec![CLICKS_PER_WINDOW; copies(&window)];
            (window, counts)
        })
        .collect()
}

#[test]
fn exactly_once_through_two_process_kills() {
    let seen = counts_after_two_process_kills("exactly-once");
    assert_eq!(seen, every_window(|_| 1));
}

#[test]
fn at_least_once_through_two_process_kills() {
    let seen = counts_after_two_process_kills("at-least-once");
    // Duplicates are allowed, but each copy must hold the full count, and no window may
    // be missing.
    let expected = every_window(|window| seen.get(window).map_or(1, |c| c.len().max(1)));
    let duplicates: usize = seen.values().map(|c| c.len() - 1).sum();
    eprintln!("at-least-once: {duplicates} duplicate window results");
    assert_eq!(seen, expected);
}
