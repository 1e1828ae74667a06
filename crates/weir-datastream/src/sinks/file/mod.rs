//! The exactly-once file sink (Flink's `FileSink` with a row format): records go to bucket
//! directories under a base path, into part files that roll by the [`RollingPolicy`], and
//! become visible only when the checkpoint that covers them completes (two-phase commit).
//!
//! A part file lives three lives, as in Flink:
//! - *in progress*: `.<prefix>-<subtask>-<n><suffix>.inprogress.<random>` (hidden), being
//!   written;
//! - *pending*: closed and synced, same hidden name, waiting for a checkpoint;
//! - *finished*: renamed to `<prefix>-<subtask>-<n><suffix>` when the checkpoint after which
//!   it was closed completes.
//!
//! At a checkpoint the writer syncs its in-progress files and saves their lengths, plus every
//! pending file not committed yet. On restore it commits the pending files of the restored
//! checkpoint (that checkpoint completed), and truncates the in-progress files to their saved
//! lengths and commits them too: whatever a failed attempt wrote after the checkpoint is cut
//! off, and the finished files hold each record exactly once. Files a failed attempt opened
//! after the checkpoint stay hidden and are never committed.
//!
//! Without checkpoints, and when the input ends, everything is committed at the end, so that
//! bounded jobs produce their files. Rolling on inactivity is checked when records arrive and
//! at checkpoints (Flink checks it on a timer).

mod part;
mod policy;

pub use policy::{date_time_bucket, BucketAssigner, OutputFileConfig, RollingPolicy};

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weir_core::Result;
use weir_runtime::operator::now_ms;
use weir_state::{ListMode, StateSnapshot};

use super::{Sink, SinkWriter};
use crate::format::RecordFormat;
use crate::functions::RuntimeContext;
use part::{InProgressPart, PendingFile};

/// The list state that holds the sink's files in checkpoints.
const STATE: &str = "file-sink";

/// Builds an exactly-once file sink; see the module documentation.
pub struct FileSink<T> {
    base: PathBuf,
    bucket_of: BucketAssigner<T>,
    policy: RollingPolicy,
    names: OutputFileConfig,
}

impl<T> Clone for FileSink<T> {
    fn clone(&self) -> Self {
        FileSink {
            base: self.base.clone(),
            bucket_of: Arc::clone(&self.bucket_of),
            policy: self.policy,
            names: self.names.clone(),
        }
    }
}

impl<T: 'static> FileSink<T> {
    /// A sink writing records as lines under `base` (Flink's `forRowFormat`), bucketed by
    /// hour of processing time, with the default rolling policy.
    pub fn for_row_format(base: impl AsRef<Path>) -> Self {
        FileSink {
            base: base.as_ref().to_path_buf(),
            bucket_of: Arc::new(date_time_bucket::<T>),
            policy: RollingPolicy::default(),
            names: OutputFileConfig::default(),
        }
    }

    /// Buckets records by `assign(record, processing time ms)`: the sub-directory name, or
    /// `""` for the base path itself (Flink's `BasePathBucketAssigner`).
    pub fn with_bucket_assigner(
        mut self,
        assign: impl Fn(&T, i64) -> String + Send + Sync + 'static,
    ) -> Self {
        self.bucket_of = Arc::new(assign);
        self
    }

    /// Sets when part files roll.
    pub fn with_rolling_policy(mut self, policy: RollingPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the part files' prefix and suffix.
    pub fn with_output_file_config(mut self, names: OutputFileConfig) -> Self {
        self.names = names;
        self
    }
}

/// What a writer saves at a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WriterState {
    next_part: u64,
    /// In-progress files and their synced lengths.
    in_progress: Vec<(PendingFile, u64)>,
    /// Closed files not committed yet.
    pending: Vec<PendingFile>,
}

impl<T: RecordFormat + Send + Sync + 'static> Sink<T> for FileSink<T> {
    fn create_writer(&self, ctx: &RuntimeContext) -> Result<Box<dyn SinkWriter<T>>> {
        let mut writer = FileSinkWriter {
            sink: self.clone(),
            subtask: ctx.subtask_index,
            next_part: 0,
            buckets: HashMap::new(),
            closed: Vec::new(),
            by_checkpoint: BTreeMap::new(),
        };
        if let Some(restored) = ctx.restored_state() {
            for state in restored.list::<WriterState>(STATE)? {
                writer.next_part = writer.next_part.max(state.next_part);
                for (file, length) in state.in_progress {
                    file.truncated(length)?.commit()?;
                }
                state.pending.iter().try_for_each(PendingFile::commit)?;
            }
        }
        Ok(Box::new(writer))
    }
}

/// One subtask of a [`FileSink`].
struct FileSinkWriter<T> {
    sink: FileSink<T>,
    subtask: usize,
    next_part: u64,
    buckets: HashMap<String, InProgressPart>,
    /// Files closed since the last checkpoint.
    closed: Vec<PendingFile>,
    /// Files closed before checkpoint `n`, committed when it completes.
    by_checkpoint: BTreeMap<u64, Vec<PendingFile>>,
}

impl<T> FileSinkWriter<T> {
    /// The in-progress part of `bucket`, opening a new one if there is none.
    fn part(&mut self, bucket: &str, now: i64) -> Result<&mut InProgressPart> {
        if !self.buckets.contains_key(bucket) {
            let file = self.new_part_file(bucket);
            self.buckets
                .insert(bucket.to_string(), InProgressPart::create(file, now)?);
        }
        Ok(self.buckets.get_mut(bucket).expect("inserted above"))
    }

    /// Names of the next part of `bucket`, skipping numbers whose final file exists.
    fn new_part_file(&mut self, bucket: &str) -> PendingFile {
        let dir = self.sink.base.join(bucket);
        let names = &self.sink.names;
        loop {
            let name = format!(
                "{}-{}-{}{}",
                names.part_prefix, self.subtask, self.next_part, names.part_suffix
            );
            self.next_part += 1;
            let target = dir.join(&name);
            if target.exists() {
                continue;
            }
            let random = std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish();
            let in_progress = dir.join(format!(".{name}.inprogress.{random:016x}"));
            return PendingFile {
                in_progress,
                target,
            };
        }
    }

    /// Closes the parts that `roll` selects.
    fn roll_where(&mut self, roll: impl Fn(&InProgressPart) -> bool) -> Result<()> {
        let rolling: Vec<String> = (self.buckets.iter())
            .filter(|(_, part)| roll(part))
            .map(|(bucket, _)| bucket.clone())
            .collect();
        for bucket in rolling {
            if let Some(part) = self.buckets.remove(&bucket) {
                self.closed.push(part.close()?);
            }
        }
        Ok(())
    }

    /// Closes every part and commits every closed file.
    fn commit_all(&mut self) -> Result<()> {
        self.roll_where(|_| true)?;
        let by_checkpoint = std::mem::take(&mut self.by_checkpoint);
        (by_checkpoint.values().flatten())
            .chain(&self.closed)
            .try_for_each(PendingFile::commit)?;
        self.closed.clear();
        Ok(())
    }
}

impl<T: RecordFormat + Send + 'static> SinkWriter<T> for FileSinkWriter<T> {
    fn write(&mut self, records: Vec<T>) -> Result<()> {
        let now = now_ms();
        let policy = self.sink.policy;
        let mut line = String::new();
        for record in records {
            let bucket = (self.sink.bucket_of)(&record, now);
            line.clear();
            record.format_record(&mut line);
            line.push('\n');
            let part = self.part(&bucket, now)?;
            part.write(line.as_bytes(), now)?;
            if part.rolls(&policy, now) {
                if let Some(part) = self.buckets.remove(&bucket) {
                    self.closed.push(part.close()?);
                }
            }
        }
        Ok(())
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        let (policy, now) = (self.sink.policy, now_ms());
        self.roll_where(|part| policy.roll_on_checkpoint || part.rolls(&policy, now))?;
        let closed = std::mem::take(&mut self.closed);
        self.by_checkpoint.insert(snapshot.checkpoint_id(), closed);
        let mut in_progress = Vec::with_capacity(self.buckets.len());
        for part in self.buckets.values_mut() {
            in_progress.push((part.file.clone(), part.persist()?));
        }
        let state = WriterState {
            next_part: self.next_part,
            in_progress,
            pending: self.by_checkpoint.values().flatten().cloned().collect(),
        };
        snapshot.add_list(STATE, ListMode::Split, [&state])
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        let later = self.by_checkpoint.split_off(&(checkpoint_id + 1));
        let covered = std::mem::replace(&mut self.by_checkpoint, later);
        covered.values().flatten().try_for_each(PendingFile::commit)
    }

    fn finish(&mut self) -> Result<()> {
        self.commit_all()
    }
}
