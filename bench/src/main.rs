//! `weir-bench`: throughput benchmarks of Weir's core runtime. They report figures and never
//! fail on timing. See `bench/README.md`.
//!
//! ```text
//! weir-bench pipeline  --records N [--parallelism P] [--keys K] [-D key=value]...
//! weir-bench baseline  --records N [--keys K]
//! weir-bench baseline-wordcount --input PATH
//! weir-bench gen-text  --mb MB --out PATH [--seed S]
//! weir-bench wordcount --input PATH [--parallelism P] [--final] [-D key=value]...
//! weir-bench window    --events N --kind tumbling|sliding [--keys K] [-D key=value]...
//! weir-bench checkpoint --state-mb MB [--value-bytes B] [--checkpoints N] [-D key=value]...
//! weir-bench recovery  [--state-mb MB] [--fail-after N] [-D key=value]...
//! weir-bench state-size --state-mb MB [--value-bytes B] [--updates U] [-D key=value]...
//! ```
//! Each run prints one line: `NAME k=v ... records=.. secs=.. rec/s=.. rec/s/core=.. peak_rss=..`.

mod checkpoints;
mod procstat;
mod state_size;
mod textgen;

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;

use procstat::Measurement;
use weir_core::keygroup::{key_group_for_key, StableBuildHasher};
use weir_datastream::prelude::*;
use weir_examples::tokenize;

const USAGE: &str = "usage:
  weir-bench pipeline  --records N [--parallelism P] [--keys K] [-D key=value]...
  weir-bench baseline  --records N [--keys K]
  weir-bench baseline-wordcount --input PATH
  weir-bench gen-text  --mb MB --out PATH [--seed S]
  weir-bench wordcount --input PATH [--parallelism P] [--final] [-D key=value]...
  weir-bench window    --events N --kind tumbling|sliding [--keys K] [-D key=value]...
  weir-bench checkpoint --state-mb MB [--value-bytes B] [--checkpoints N] [-D key=value]...
  weir-bench recovery  [--state-mb MB] [--fail-after N] [-D key=value]...
  weir-bench state-size --state-mb MB [--value-bytes B] [--updates U] [-D key=value]...";

/// Parsed command line: `--name value` options, `--flag`s, and `-D key=value` properties.
struct Args {
    command: String,
    options: HashMap<String, String>,
    flags: Vec<String>,
    properties: Vec<(String, String)>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut it = std::env::args().skip(1).peekable();
        let command = it.next().ok_or("missing command")?;
        let (mut options, mut flags, mut properties) = (HashMap::new(), Vec::new(), Vec::new());
        while let Some(arg) = it.next() {
            if arg == "-D" {
                let kv = it.next().ok_or("-D needs key=value")?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("-D {kv}: expected key=value"))?;
                properties.push((k.to_string(), v.to_string()));
            } else if let Some(name) = arg.strip_prefix("--") {
                match it.peek() {
                    Some(v) if !v.starts_with("--") && v != "-D" => {
                        options.insert(name.to_string(), it.next().unwrap_or_default());
                    }
                    _ => flags.push(name.to_string()),
                }
            } else {
                return Err(format!("unexpected argument '{arg}'"));
            }
        }
        Ok(Args {
            command,
            options,
            flags,
            properties,
        })
    }

    fn get<T: std::str::FromStr>(&self, name: &str, default: Option<T>) -> Result<T, String> {
        match self.options.get(name) {
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name} {v}: not a valid value")),
            None => default.ok_or_else(|| format!("missing --{name}")),
        }
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// An environment with parallelism `p` and the `-D` properties.
    fn environment(&self, parallelism: usize) -> StreamExecutionEnvironment {
        let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
        env.set_parallelism(parallelism);
        for (k, v) in &self.properties {
            env.configure(k, v);
        }
        env
    }

    /// `batch=1024` and any other `-D` properties, for the report line.
    fn property_summary(&self) -> String {
        self.properties
            .iter()
            .map(|(k, v)| format!(" {k}={v}"))
            .collect()
    }
}

fn main() -> ExitCode {
    let result = Args::parse().and_then(|args| match args.command.as_str() {
        "pipeline" => pipeline(&args),
        "baseline" => baseline(&args),
        "baseline-wordcount" => baseline_wordcount(&args),
        "gen-text" => gen_text(&args),
        "wordcount" => wordcount(&args),
        "window" => window(&args),
        "checkpoint" => checkpoints::checkpoint(&args),
        "recovery" => checkpoints::recovery(&args),
        "state-size" => state_size::state_size(&args),
        other => Err(format!("unknown command '{other}'")),
    });
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

/// Records into and out of the operator named `name`, summed over subtasks.
fn totals(result: &JobExecutionResult, name: &str) -> (u64, u64) {
    result
        .operator_totals()
        .into_iter()
        .find(|(n, ..)| n == name)
        .map(|(_, i, o)| (i, o))
        .unwrap_or((0, 0))
}

/// generator → map to (key, 1) → key_by → rolling sum → discard.
fn pipeline(args: &Args) -> Result<String, String> {
    let records: u64 = args.get("records", None)?;
    let parallelism: usize = args.get("parallelism", Some(1))?;
    let keys: u64 = args.get("keys", Some(1000))?;
    let env = args.environment(parallelism);
    env.from_generator(|i| i, Some(records), None)
        .map(move |i: u64| (i % keys, 1i64))
        .key_by(|r: &(u64, i64)| r.0)
        .sum(1)
        .sink_to(|_: Vec<(u64, i64)>| -> Result<()> { Ok(()) }, "Discard");
    let m = Measurement::start();
    let result = env.execute("pipeline").map_err(|e| e.to_string())?;
    let usage = m.stop();
    let (sunk, _) = totals(&result, "Sink: Discard");
    if sunk != records {
        return Err(format!(
            "the sink received {sunk} records, expected {records}"
        ));
    }
    let params = format!("p={parallelism} keys={keys}{}", args.property_summary());
    Ok(usage.line("pipeline", &params, records))
}

/// Event-time windows over generated events: one event per millisecond of event time, keys
/// round-robin; a keyed 10 s tumbling count, or a 10 s / 1 s sliding sum, at parallelism 1.
fn window(args: &Args) -> Result<String, String> {
    let events: u64 = args.get("events", None)?;
    let keys: u64 = args.get("keys", Some(1000))?;
    let kind: String = args.get("kind", None)?;
    let env = args.environment(1);
    let keyed = env
        .from_generator(move |i| (i % keys, i as i64, 1i64), Some(events), None)
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|e: &(u64, i64, i64), _| Ok(e.1)),
        )
        .key_by(|e: &(u64, i64, i64)| e.0);
    let size = std::time::Duration::from_secs(10);
    let windowed = match kind.as_str() {
        "tumbling" => keyed.window(TumblingEventTimeWindows::of(size)).sum(2),
        "sliding" => keyed
            .window(SlidingEventTimeWindows::of(
                size,
                std::time::Duration::from_secs(1),
            ))
            .sum(2),
        other => return Err(format!("--kind {other}: expected tumbling or sliding")),
    };
    windowed.sink_to(
        |_: Vec<(u64, i64, i64)>| -> Result<()> { Ok(()) },
        "Discard",
    );
    let m = Measurement::start();
    let result = env.execute("window").map_err(|e| e.to_string())?;
    let usage = m.stop();
    let (results, _) = totals(&result, "Sink: Discard");
    let params = format!(
        "p=1 kind={kind} keys={keys} results={results}{}",
        args.property_summary()
    );
    Ok(usage.line("window", &params, events))
}

/// The pipeline's per-record work in one loop on one thread, in batches of 1024, with no
/// runtime: generate, map, key group + hash map update, copy the result into an output batch.
/// An upper bound for what the runtime can reach per core on this machine.
fn baseline(args: &Args) -> Result<String, String> {
    const BATCH: u64 = 1024;
    const MAX_PARALLELISM: usize = 128;
    let records: u64 = args.get("records", None)?;
    let keys: u64 = args.get("keys", Some(1000))?;
    let generate = black_box(|i: u64| i);
    let mut state: Vec<HashMap<u64, (u64, i64), StableBuildHasher>> =
        (0..MAX_PARALLELISM).map(|_| HashMap::default()).collect();
    let m = Measurement::start();
    let mut start = 0;
    while start < records {
        let end = (start + BATCH).min(records);
        let input: Vec<u64> = (start..end).map(generate).collect();
        let mapped: Vec<(u64, i64)> = input.into_iter().map(|i| (i % keys, 1i64)).collect();
        let mut out = Vec::with_capacity(mapped.len());
        for r in mapped {
            let group = &mut state[key_group_for_key(&r.0, MAX_PARALLELISM)];
            match group.get_mut(&r.0) {
                Some(current) => {
                    current.1 += r.1;
                    out.push(*current);
                }
                None => {
                    group.insert(r.0, r);
                    out.push(r);
                }
            }
        }
        black_box(out);
        start = end;
    }
    let usage = m.stop();
    Ok(usage.line("baseline", &format!("p=1 keys={keys}"), records))
}

/// Streaming WordCount's per-word work in one loop on one thread, with no runtime: read
/// lines, tokenize (as the job does), look the word up in one hash map, emit a copy of the
/// updated count into an output batch of 1024 that is then dropped. An upper bound for the
/// `wordcount` job per core.
fn baseline_wordcount(args: &Args) -> Result<String, String> {
    use std::io::BufRead;
    let input: PathBuf = args.get("input", None)?;
    let file = std::fs::File::open(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    let m = Measurement::start();
    let mut counts: HashMap<String, (String, i64), StableBuildHasher> = HashMap::default();
    let mut out: Vec<(String, i64)> = Vec::with_capacity(1024);
    let (mut lines, mut words) = (0u64, 0u64);
    for line in std::io::BufReader::with_capacity(1 << 16, file).lines() {
        let line = line.map_err(|e| format!("{}: {e}", input.display()))?;
        lines += 1;
        for (word, n) in tokenize(line) {
            words += 1;
            match counts.get_mut(&word) {
                Some(current) => {
                    current.1 += n;
                    out.push(current.clone());
                }
                None => {
                    out.push((word.clone(), n));
                    counts.insert(word.clone(), (word, n));
                }
            }
            if out.len() == 1024 {
                black_box(&out);
                out.clear();
            }
        }
    }
    black_box(out);
    let usage = m.stop();
    let params = format!("p=1 mode=streaming lines={lines} distinct={}", counts.len());
    Ok(usage.line("baseline-wordcount", &params, words))
}

fn gen_text(args: &Args) -> Result<String, String> {
    let mb: u64 = args.get("mb", Some(100))?;
    let out: PathBuf = args.get("out", None)?;
    let seed: u64 = args.get("seed", Some(42))?;
    let m = Measurement::start();
    let stats =
        textgen::generate(mb, &out, seed).map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(format!(
        "gen-text out={} bytes={} lines={} words={} secs={:.2}",
        out.display(),
        stats.bytes,
        stats.lines,
        stats.words,
        m.stop().wall_secs
    ))
}

/// read_text_file → tokenize → key_by word → rolling sum → discard. With `--final`, batch
/// runtime mode: only the final count of each word reaches the sink.
fn wordcount(args: &Args) -> Result<String, String> {
    let input: PathBuf = args.get("input", None)?;
    let parallelism: usize = args.get("parallelism", Some(1))?;
    let final_only = args.flag("final");
    let bytes = std::fs::metadata(&input)
        .map_err(|e| format!("{}: {e}", input.display()))?
        .len();
    let env = args.environment(parallelism);
    if final_only {
        env.configure("execution.runtime-mode", "BATCH");
    }
    env.read_text_file(&input)
        .flat_map(tokenize)
        .name("Tokenizer")
        .key_by(|(word, _): &(String, i64)| word.clone())
        .sum(1)
        .sink_to(|_: Vec<(String, i64)>| -> Result<()> { Ok(()) }, "Discard");
    let m = Measurement::start();
    let result = env.execute("wordcount").map_err(|e| e.to_string())?;
    let usage = m.stop();
    let (lines, words) = totals(&result, "Tokenizer");
    let (sunk, _) = totals(&result, "Sink: Discard");
    let expected_sunk = if final_only { sunk.min(words) } else { words };
    if words == 0 || sunk != expected_sunk {
        return Err(format!(
            "the sink received {sunk} records for {words} words"
        ));
    }
    let mode = if final_only { "batch" } else { "streaming" };
    let params = format!(
        "p={parallelism} mode={mode} lines={lines} emitted={sunk} MB/s={:.1}{}",
        bytes as f64 / 1e6 / usage.wall_secs,
        args.property_summary()
    );
    Ok(usage.line("wordcount", &params, words))
}
