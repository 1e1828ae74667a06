//! Event time: timestamp assigners, watermark generators and the operator that applies a
//! [`WatermarkStrategy`] to a stream (Flink's `TimestampsAndWatermarksOperator`).
//!
//! The operator gives every record a timestamp, feeds it to the generator, and emits the
//! generator's watermarks: punctuated ones right after the record that caused them, periodic
//! ones every `pipeline.auto-watermark-interval`. With `with_idleness(d)` a subtask that saw
//! no record for `d` declares itself idle, so that it does not hold back the watermark of the
//! operators after it. Watermarks arriving from upstream are dropped (this operator decides
//! event time from here on), except the final one at the end of the input. The last watermark
//! emitted is the operator's `currentOutputWatermark` gauge.

use std::sync::Arc;
use std::time::Duration;

use weir_core::config::options;
use weir_core::element::{Batch, Records, Watermark, WatermarkStatus};
use weir_core::metrics::{Gauge, CURRENT_OUTPUT_WATERMARK};
use weir_core::{Result, WeirError};

use crate::operator::{now_ms, OperatorContext, Output, StreamOperator};

/// Collects the watermarks a generator emits.
#[derive(Debug, Default)]
pub struct WatermarkOutput {
    emitted: Option<Watermark>,
}

impl WatermarkOutput {
    /// Emits `watermark` (ignored unless it is above every earlier one).
    pub fn emit(&mut self, watermark: Watermark) {
        self.emitted = Some(self.emitted.map_or(watermark, |w| w.max(watermark)));
    }

    /// Takes the highest watermark emitted since the last call.
    pub fn take(&mut self) -> Option<Watermark> {
        self.emitted.take()
    }
}

/// Decides event-time progress from the records seen (Flink's `WatermarkGenerator`).
pub trait WatermarkGenerator<T>: Send {
    /// Called for every record with its timestamp; a punctuated generator emits here.
    fn on_event(&mut self, record: &T, timestamp: i64, output: &mut WatermarkOutput);
    /// Called every `pipeline.auto-watermark-interval`; a periodic generator emits here.
    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput);
}

/// Watermarks that trail the highest timestamp seen by a fixed bound: `max - bound - 1`.
pub struct BoundedOutOfOrderness {
    max_timestamp: i64,
    bound_ms: i64,
}

impl BoundedOutOfOrderness {
    /// A generator allowing records to be up to `bound` late.
    pub fn new(bound: Duration) -> Self {
        let bound_ms = bound.as_millis() as i64;
        BoundedOutOfOrderness {
            max_timestamp: i64::MIN + bound_ms + 1,
            bound_ms,
        }
    }
}

impl<T> WatermarkGenerator<T> for BoundedOutOfOrderness {
    fn on_event(&mut self, _record: &T, timestamp: i64, _output: &mut WatermarkOutput) {
        self.max_timestamp = self.max_timestamp.max(timestamp);
    }

    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        output.emit(Watermark(self.max_timestamp - self.bound_ms - 1));
    }
}

/// Extracts a record's timestamp; gets the record and its previous timestamp (`i64::MIN`
/// when it had none). An error fails the job, naming the operator.
pub type TimestampAssigner<T> = Arc<dyn Fn(&T, i64) -> Result<i64> + Send + Sync>;

type GeneratorFactory<T> = Arc<dyn Fn() -> Box<dyn WatermarkGenerator<T>> + Send + Sync>;

/// How a stream gets timestamps and watermarks (Flink's `WatermarkStrategy`).
pub struct WatermarkStrategy<T> {
    generator: GeneratorFactory<T>,
    assigner: Option<TimestampAssigner<T>>,
    idleness: Option<Duration>,
}

impl<T> Clone for WatermarkStrategy<T> {
    fn clone(&self) -> Self {
        WatermarkStrategy {
            generator: Arc::clone(&self.generator),
            assigner: self.assigner.clone(),
            idleness: self.idleness,
        }
    }
}

impl<T: 'static> WatermarkStrategy<T> {
    /// Records may arrive up to `bound` out of order.
    pub fn for_bounded_out_of_orderness(bound: Duration) -> Self {
        Self::for_generator(move || BoundedOutOfOrderness::new(bound))
    }

    /// Timestamps never decrease.
    pub fn for_monotonous_timestamps() -> Self {
        Self::for_bounded_out_of_orderness(Duration::ZERO)
    }

    /// Event time is the wall-clock time at which records pass this operator (ingestion time).
    pub fn ingestion_time() -> Self {
        Self::for_monotonous_timestamps().with_timestamp_assigner(|_, _| Ok(now_ms()))
    }

    /// A custom generator, periodic or punctuated.
    pub fn for_generator<G: WatermarkGenerator<T> + 'static>(
        make: impl Fn() -> G + Send + Sync + 'static,
    ) -> Self {
        WatermarkStrategy {
            generator: Arc::new(move || Box::new(make())),
            assigner: None,
            idleness: None,
        }
    }

    /// Sets how timestamps are extracted from records (without it, records keep the
    /// timestamps they have, and a record without one fails the job).
    pub fn with_timestamp_assigner(
        mut self,
        assigner: impl Fn(&T, i64) -> Result<i64> + Send + Sync + 'static,
    ) -> Self {
        self.assigner = Some(Arc::new(assigner));
        self
    }

    /// Declares the stream idle after `timeout` without records.
    pub fn with_idleness(mut self, timeout: Duration) -> Self {
        self.idleness = Some(timeout);
        self
    }

    /// A new generator (for sources that keep one per split).
    pub fn create_watermark_generator(&self) -> Box<dyn WatermarkGenerator<T>> {
        (self.generator)()
    }

    /// The timestamp assigner, if one was set.
    pub fn timestamp_assigner(&self) -> Option<&TimestampAssigner<T>> {
        self.assigner.as_ref()
    }

    /// The idle timeout, if one was set.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idleness
    }
}

/// The error for a record that reaches a strategy without a timestamp assigner and has no
/// timestamp of its own (Flink would silently give it none, so event time would never advance).
const MISSING_TIMESTAMP: &str = "a record has no timestamp: its source gives records none, so \
    the WatermarkStrategy needs a timestamp assigner (with_timestamp_assigner)";

/// Applies a [`WatermarkStrategy`]; see the module documentation.
pub struct TimestampsAndWatermarks<T> {
    strategy: WatermarkStrategy<T>,
    generator: Box<dyn WatermarkGenerator<T>>,
    output: WatermarkOutput,
    current: Watermark,
    interval_ms: i64,
    next_periodic: Option<i64>,
    last_record_at: i64,
    idle: bool,
    /// The last watermark emitted: Flink's `currentOutputWatermark`.
    output_watermark: Gauge,
}

impl<T: Clone + Send + 'static> TimestampsAndWatermarks<T> {
    /// The operator for `strategy`.
    pub fn new(strategy: WatermarkStrategy<T>) -> Self {
        TimestampsAndWatermarks {
            generator: (strategy.generator)(),
            strategy,
            output: WatermarkOutput::default(),
            current: Watermark::MIN,
            interval_ms: 0,
            next_periodic: None,
            last_record_at: 0,
            idle: false,
            output_watermark: Gauge::default(),
        }
    }

    fn emit_pending(&mut self, out: &mut dyn Output) -> Result<()> {
        match self.output.take() {
            Some(w) if w > self.current => {
                self.current = w;
                self.output_watermark.set(w.0);
                out.emit_watermark(w)
            }
            _ => Ok(()),
        }
    }
}

impl<T: Clone + Send + 'static> StreamOperator for TimestampsAndWatermarks<T> {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.interval_ms = ctx
            .config
            .get(&options::PIPELINE_AUTO_WATERMARK_INTERVAL)?
            .as_millis() as i64;
        self.output_watermark = ctx.metrics().gauge(CURRENT_OUTPUT_WATERMARK);
        self.output_watermark.set(self.current.0);
        let now = now_ms();
        self.last_record_at = now;
        if self.interval_ms > 0 {
            self.next_periodic = Some(now + self.interval_ms);
        }
        Ok(())
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        self.last_record_at = now_ms();
        if self.idle {
            self.idle = false;
            out.emit_watermark_status(WatermarkStatus::Active)?;
        }
        let records = batch.into_records::<T>();
        let mut pending = Records::with_capacity(records.len(), true);
        for (record, previous) in records.into_iter_timestamped() {
            let timestamp = match (&self.strategy.assigner, previous) {
                (Some(assign), _) => assign(&record, previous.unwrap_or(i64::MIN))?,
                (None, Some(timestamp)) => timestamp,
                (None, None) => return Err(WeirError::user(MISSING_TIMESTAMP)),
            };
            self.generator
                .on_event(&record, timestamp, &mut self.output);
            pending.push(record, Some(timestamp));
            if self.output.emitted.is_some_and(|w| w > self.current) {
                // A punctuated watermark follows the records before it.
                out.collect(Batch::from_records(std::mem::replace(
                    &mut pending,
                    Records::with_capacity(0, true),
                )))?;
                self.emit_pending(out)?;
            }
        }
        out.collect(Batch::from_records(pending))
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        if watermark == Watermark::MAX {
            self.current = Watermark::MAX;
            self.output_watermark.set(Watermark::MAX.0);
            out.emit_watermark(watermark)?;
        }
        Ok(())
    }

    fn process_watermark_status(
        &mut self,
        _status: WatermarkStatus,
        _out: &mut dyn Output,
    ) -> Result<()> {
        // Idleness is decided here, from the records this operator sees.
        Ok(())
    }

    fn next_processing_time(&self) -> Option<i64> {
        let idle_at = self
            .strategy
            .idleness
            .filter(|_| !self.idle)
            .map(|d| self.last_record_at + d.as_millis() as i64);
        match (self.next_periodic, idle_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut dyn Output) -> Result<()> {
        if let Some(next) = self.next_periodic.filter(|t| *t <= now_ms) {
            self.generator.on_periodic_emit(&mut self.output);
            self.emit_pending(out)?;
            self.next_periodic = Some(next.max(now_ms - self.interval_ms) + self.interval_ms);
        }
        if let Some(timeout) = self.strategy.idleness {
            if !self.idle && now_ms - self.last_record_at >= timeout.as_millis() as i64 {
                self.idle = true;
                out.emit_watermark_status(WatermarkStatus::Idle)?;
            }
        }
        Ok(())
    }
}
