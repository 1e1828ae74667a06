//! The DataStream source of Nexmark events. It is Weir's parallel generator source fed with
//! [`NexmarkGenerator::event`]: each subtask generates a contiguous range of event numbers,
//! a checkpoint records the unread rest of each range, and an optional rate (events per
//! second over all subtasks) throttles it.

use weir_core::Result;
use weir_datastream::functions::RuntimeContext;
use weir_datastream::sources::{GeneratorSource, Source, SourceReader};

use crate::{Event, NexmarkConfig, NexmarkGenerator};

/// Generates event `n` for each event number `n`.
type EventFn = Box<dyn Fn(u64) -> Event + Send + Sync>;

/// Nexmark events as a parallel, checkpointable source.
pub struct NexmarkSource {
    inner: GeneratorSource<EventFn>,
}

impl NexmarkSource {
    /// The events of `config` (`config.events` of them, or unbounded), emitted at
    /// `events_per_second` in total (as fast as possible if `None`).
    pub fn new(config: NexmarkConfig, events_per_second: Option<f64>) -> Result<Self> {
        let count = config.events;
        let generator = NexmarkGenerator::new(config).map_err(weir_core::WeirError::InvalidJob)?;
        let generate: EventFn = Box::new(move |n| generator.event(n));
        Ok(NexmarkSource {
            inner: GeneratorSource::new(generate, count, events_per_second),
        })
    }
}

impl Source<Event> for NexmarkSource {
    fn create_reader(&self, ctx: &RuntimeContext) -> Result<Box<dyn SourceReader<Event>>> {
        self.inner.create_reader(ctx)
    }

    fn restore_reader(
        &self,
        ctx: &RuntimeContext,
        splits: &[Vec<u8>],
    ) -> Result<Box<dyn SourceReader<Event>>> {
        self.inner.restore_reader(ctx, splits)
    }
}
