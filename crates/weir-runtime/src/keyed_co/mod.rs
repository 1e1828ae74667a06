//! Keyed functions over two connected streams (Flink's `KeyedCoProcessFunction` and
//! `KeyedCoProcessOperator`), and the joins built on them.
//!
//! Each input has its own key selector; records of both inputs with equal keys reach the same
//! subtask and share that key's state and timers. The operator's watermark is the minimum over
//! both inputs (the input gate computes it).
//!
//! - [`KeyedCoProcessFunction`] and [`KeyedCoProcessOperator`]: the primitive.
//! - [`interval_join`]: Flink's interval join, a keyed co-process function.
//!
//! Window joins and co-groups are not here: as in Flink, they run both inputs, tagged by
//! side, through the shared window operator (see `weir-datastream`'s `joins`).

pub mod interval_join;

use std::marker::PhantomData;

use weir_core::element::{Batch, Watermark};
use weir_core::Result;
use weir_state::TimeDomain;

use crate::keyed::{KeyType, KeyedContext, KeyedCore};
use crate::operator::{OperatorContext, Output, StreamOperator};

/// A function over two keyed streams with shared keyed state and timers.
pub trait KeyedCoProcessFunction<K, I1, I2, O>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first element.
    fn open(&mut self, _ctx: &OperatorContext) -> Result<()> {
        Ok(())
    }
    /// Processes one element of the first input; its key is current.
    fn process_element1(&mut self, value: I1, ctx: &mut KeyedContext<'_, K, O>) -> Result<()>;
    /// Processes one element of the second input; its key is current.
    fn process_element2(&mut self, value: I2, ctx: &mut KeyedContext<'_, K, O>) -> Result<()>;
    /// A timer fired; its key (and namespace) is current and `ctx.time_domain()` says which
    /// clock.
    fn on_timer(&mut self, _timestamp: i64, _ctx: &mut KeyedContext<'_, K, O>) -> Result<()> {
        Ok(())
    }
}

/// Runs a [`KeyedCoProcessFunction`]; `key_of1` and `key_of2` extract the keys of the records
/// of the first and the second input.
pub struct KeyedCoProcessOperator<K, I1, I2, O, KF1, KF2, F> {
    key_of1: KF1,
    key_of2: KF2,
    function: F,
    core: KeyedCore<K>,
    _t: PhantomData<fn(I1, I2) -> O>,
}

impl<K, I1, I2, O, KF1, KF2, F> KeyedCoProcessOperator<K, I1, I2, O, KF1, KF2, F>
where
    K: KeyType,
    I1: weir_state::StateValue,
    I2: weir_state::StateValue,
    O: weir_state::StateValue,
    KF1: Fn(&I1) -> K + Send,
    KF2: Fn(&I2) -> K + Send,
    F: KeyedCoProcessFunction<K, I1, I2, O>,
{
    /// The operator for `function` on inputs keyed by `key_of1` and `key_of2`.
    pub fn new(key_of1: KF1, key_of2: KF2, function: F) -> Self {
        KeyedCoProcessOperator {
            key_of1,
            key_of2,
            function,
            core: KeyedCore::default(),
            _t: PhantomData,
        }
    }
}

impl<K, I1, I2, O, KF1, KF2, F> StreamOperator for KeyedCoProcessOperator<K, I1, I2, O, KF1, KF2, F>
where
    K: KeyType,
    I1: weir_state::StateValue,
    I2: weir_state::StateValue,
    O: weir_state::StateValue,
    KF1: Fn(&I1) -> K + Send,
    KF2: Fn(&I2) -> K + Send,
    F: KeyedCoProcessFunction<K, I1, I2, O>,
{
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.core.open(ctx)?;
        self.function.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut weir_state::StateSnapshot) -> Result<()> {
        self.core.snapshot(snapshot)
    }

    fn process_batch(&mut self, input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let function = &mut self.function;
        match input {
            0 => self.core.process(
                batch,
                &self.key_of1,
                |value, ctx| function.process_element1(value, ctx),
                out,
            ),
            _ => self.core.process(
                batch,
                &self.key_of2,
                |value, ctx| function.process_element2(value, ctx),
                out,
            ),
        }
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        let function = &mut self.function;
        self.core
            .advance_watermark(watermark, |time, ctx| function.on_timer(time, ctx), out)
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.core.timers.next_processing_time()
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut dyn Output) -> Result<()> {
        let function = &mut self.function;
        self.core.fire_timers(
            TimeDomain::ProcessingTime,
            now_ms,
            |time, ctx| function.on_timer(time, ctx),
            out,
        )
    }
}
