//! Helpers shared by the integration tests: temporary folders, deterministic random data,
//! environments with a given configuration, a scripted source.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weir_datastream::prelude::*;
use weir_datastream::sinks::CollectSink;

/// A fresh folder under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "weir-test-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An environment with `parallelism` and otherwise default configuration.
pub fn env(parallelism: usize) -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(parallelism);
    env
}

/// An environment with `parallelism` whose keyed state is kept by `backend` (the value of
/// `state.backend.type`), for suites run with [`weir_state::for_each_backend`].
pub fn env_on(backend: &str, parallelism: usize) -> StreamExecutionEnvironment {
    let env = env(parallelism);
    for (key, value) in weir_state::testing::backend_options(backend) {
        env.configure(key, value);
    }
    env
}

/// Sends `stream` to a sink that keeps its records; read them after `execute`.
pub fn collected<T: Record>(stream: &DataStream<T>) -> Arc<Mutex<Vec<T>>> {
    let records = Arc::new(Mutex::new(Vec::new()));
    stream.sink_to(CollectSink::new(Arc::clone(&records)), "Collect");
    records
}

/// `lines` lines of `words_per_line` words drawn from a skewed vocabulary.
pub fn text(lines: usize, words_per_line: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    for _ in 0..lines {
        for w in 0..words_per_line {
            if w > 0 {
                out.push(if rng.below(5) == 0 { ',' } else { ' ' });
                out.push(' ');
            }
            // Skewed: small ids are much more frequent.
            let bound = 1 + rng.below(5000);
            let id = rng.below(bound);
            out.push_str(&format!("W{id}x"));
        }
        out.push('\n');
    }
    out
}

/// What a subtask of a [`ScriptedSource`] does at one step.
pub enum Step<T> {
    /// Emits these records.
    Emit(Vec<T>),
    /// Emits nothing for this long (the task stays alive and keeps its timers running).
    Pause(Duration),
    /// Ends the input.
    End,
}

/// A parallel source that plays a script: at its `n`-th step, subtask `i` does `script(i, n)`.
/// Lets tests give subtasks different speeds, pauses and ends.
pub struct ScriptedSource<T> {
    script: Arc<dyn Fn(usize, u64) -> Step<T> + Send + Sync>,
}

impl<T> ScriptedSource<T> {
    pub fn new(script: impl Fn(usize, u64) -> Step<T> + Send + Sync + 'static) -> Self {
        ScriptedSource {
            script: Arc::new(script),
        }
    }

    /// One subtask's script: each record after its pause.
    pub fn paced(items: Vec<(Duration, T)>) -> Self
    where
        T: Clone + Send + Sync + 'static,
    {
        ScriptedSource::new(move |_, n| match items.get(n as usize / 2) {
            Some((pause, _)) if n % 2 == 0 => Step::Pause(*pause),
            Some((_, record)) => Step::Emit(vec![record.clone()]),
            None => Step::End,
        })
    }
}

impl<T: Record> Source<T> for ScriptedSource<T> {
    fn create_reader(
        &self,
        ctx: &weir_datastream::functions::RuntimeContext,
    ) -> Result<Box<dyn SourceReader<T>>> {
        Ok(Box::new(ScriptedReader {
            script: Arc::clone(&self.script),
            subtask: ctx.subtask_index,
            step: 0,
            paused_until: None,
        }))
    }
}

struct ScriptedReader<T> {
    script: Arc<dyn Fn(usize, u64) -> Step<T> + Send + Sync>,
    subtask: usize,
    step: u64,
    paused_until: Option<Instant>,
}

impl<T: Record> SourceReader<T> for ScriptedReader<T> {
    fn poll_next(&mut self, out: &mut Vec<T>, _max_records: usize) -> Result<SourceStatus> {
        if let Some(until) = self.paused_until {
            let left = until.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                return Ok(SourceStatus::Pending(left));
            }
            self.paused_until = None;
        }
        let step = (self.script)(self.subtask, self.step);
        self.step += 1;
        Ok(match step {
            Step::Emit(records) => {
                out.extend(records);
                SourceStatus::More
            }
            Step::Pause(pause) => {
                self.paused_until = Some(Instant::now() + pause);
                SourceStatus::Pending(pause)
            }
            Step::End => SourceStatus::Finished,
        })
    }
}
