//! The typed operators behind the DataStream methods, all on the runtime's one
//! [`StreamOperator`] primitive.

use std::marker::PhantomData;
use std::sync::Arc;

use weir_core::config::{options, RuntimeMode};
use weir_core::element::{Batch, Records};
use weir_core::Result;
use weir_runtime::job::OperatorFactory;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{KeyedMapState, StateSnapshot};

use weir_runtime::side_output::SideOutputBuffers;

use crate::functions::{ProcessContext, ProcessFunction};
use crate::sinks::{Sink, SinkWriter};
use crate::{Key, Record};

/// A factory that gives every subtask the operator that `make` creates.
fn factory_of<O: StreamOperator + 'static>(
    make: impl Fn() -> O + Send + Sync + 'static,
) -> OperatorFactory {
    Arc::new(move |_ctx| Ok(Box::new(make()) as Box<dyn StreamOperator>))
}

/// A one-input operator that turns each batch into another: map, filter, flat map.
pub(crate) struct Transform<T, U, F> {
    f: F,
    _t: PhantomData<fn(T) -> U>,
}

impl<T, U, F> Transform<T, U, F>
where
    T: Record,
    U: Record,
    F: FnMut(Records<T>) -> Result<Records<U>> + Clone + Send + Sync + 'static,
{
    pub(crate) fn factory(f: F) -> OperatorFactory {
        factory_of(move || Transform {
            f: f.clone(),
            _t: PhantomData,
        })
    }
}

impl<T, U, F> StreamOperator for Transform<T, U, F>
where
    T: Record,
    U: Record,
    F: FnMut(Records<T>) -> Result<Records<U>> + Send,
{
    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        out.collect(Batch::from_records((self.f)(batch.into_records::<T>())?))
    }
}

/// A two-input operator with one batch function per input: co-map, co-flat-map.
pub(crate) struct CoTransform<A, B, U, F1, F2> {
    f1: F1,
    f2: F2,
    _t: PhantomData<fn(A, B) -> U>,
}

impl<A, B, U, F1, F2> CoTransform<A, B, U, F1, F2>
where
    A: Record,
    B: Record,
    U: Record,
    F1: FnMut(Records<A>) -> Result<Records<U>> + Clone + Send + Sync + 'static,
    F2: FnMut(Records<B>) -> Result<Records<U>> + Clone + Send + Sync + 'static,
{
    pub(crate) fn factory(f1: F1, f2: F2) -> OperatorFactory {
        factory_of(move || CoTransform {
            f1: f1.clone(),
            f2: f2.clone(),
            _t: PhantomData,
        })
    }
}

impl<A, B, U, F1, F2> StreamOperator for CoTransform<A, B, U, F1, F2>
where
    A: Record,
    B: Record,
    U: Record,
    F1: FnMut(Records<A>) -> Result<Records<U>> + Send,
    F2: FnMut(Records<B>) -> Result<Records<U>> + Send,
{
    fn process_batch(&mut self, input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let produced = match input {
            0 => (self.f1)(batch.into_records::<A>())?,
            _ => (self.f2)(batch.into_records::<B>())?,
        };
        out.collect(Batch::from_records(produced))
    }
}

/// Runs a [`ProcessFunction`] and routes its side outputs.
pub(crate) struct Process<T, U, P> {
    function: P,
    ctx: Option<OperatorContext>,
    side: SideOutputBuffers,
    _t: PhantomData<fn(T) -> U>,
}

impl<T: Record, U: Record, P: ProcessFunction<T, U>> Process<T, U, P> {
    pub(crate) fn factory(function: P) -> OperatorFactory {
        factory_of(move || Process {
            function: function.clone(),
            ctx: None,
            side: SideOutputBuffers::default(),
            _t: PhantomData,
        })
    }
}

impl<T: Record, U: Record, P: ProcessFunction<T, U>> StreamOperator for Process<T, U, P> {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.ctx = Some(ctx.clone());
        self.function.open(ctx)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let runtime = self
            .ctx
            .as_ref()
            .expect("open() runs before process_batch()");
        let records = batch.into_records::<T>();
        let mut produced = Records::with_capacity(records.len(), records.timestamps.is_some());
        let mut ctx = ProcessContext {
            out: &mut produced,
            side: &mut self.side,
            runtime,
            timestamp: None,
        };
        for (value, timestamp) in records.into_iter_timestamped() {
            ctx.timestamp = timestamp;
            self.function.process_element(value, &mut ctx)?;
        }
        out.collect(Batch::from_records(produced))?;
        self.side.flush(out)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.function.snapshot_state(snapshot)
    }

    fn finish(&mut self, out: &mut dyn Output) -> Result<()> {
        let runtime = self.ctx.as_ref().expect("open() runs before finish()");
        let mut produced = Records::with_capacity(0, false);
        let mut ctx = ProcessContext {
            out: &mut produced,
            side: &mut self.side,
            runtime,
            timestamp: None,
        };
        self.function.finish(&mut ctx)?;
        out.collect(Batch::from_records(produced))?;
        self.side.flush(out)
    }
}

/// Flink's `StreamGroupedReduceOperator`: per key, the first record is emitted as it is and
/// every later one is reduced with the stored value, which is updated and emitted. In batch
/// runtime mode only the final value of each key is emitted, at the end of the input.
pub(crate) struct KeyedReduce<T, K, KF, RF> {
    key_of: KF,
    reduce: RF,
    /// The current value per key; `None` only while the reduce function holds it.
    state: Option<KeyedMapState<K, Option<T>>>,
    emit_final_only: bool,
}

impl<T, K, KF, RF> KeyedReduce<T, K, KF, RF>
where
    T: Record,
    K: Key,
    KF: Fn(&T) -> K + Clone + Send + Sync + 'static,
    RF: FnMut(T, T) -> Result<T> + Clone + Send + Sync + 'static,
{
    pub(crate) fn factory(key_of: KF, reduce: RF) -> OperatorFactory {
        factory_of(move || KeyedReduce {
            key_of: key_of.clone(),
            reduce: reduce.clone(),
            state: None,
            emit_final_only: false,
        })
    }
}

impl<T, K, KF, RF> StreamOperator for KeyedReduce<T, K, KF, RF>
where
    T: Record,
    K: Key,
    KF: Fn(&T) -> K + Send,
    RF: FnMut(T, T) -> Result<T> + Send,
{
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        let mut state = KeyedMapState::new("reduce", ctx.key_group_range(), ctx.max_parallelism);
        if let Some(restored) = ctx.restored_state() {
            state.restore(restored)?;
        }
        self.state = Some(state);
        self.emit_final_only =
            ctx.config.get(&options::EXECUTION_RUNTIME_MODE)? == RuntimeMode::Batch;
        Ok(())
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        if let Some(state) = &self.state {
            state.snapshot(snapshot);
        }
        Ok(())
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, out: &mut dyn Output) -> Result<()> {
        let state = self
            .state
            .as_mut()
            .expect("open() runs before process_batch()");
        let records = batch.into_records::<T>();
        let mut produced = Records::with_capacity(records.len(), records.timestamps.is_some());
        for (record, timestamp) in records.into_iter_timestamped() {
            let key = (self.key_of)(&record);
            let reduced = match state.get_mut(&key)? {
                Some(slot) => {
                    let current = slot
                        .take()
                        .expect("a stored value is present between records");
                    slot.insert((self.reduce)(current, record)?)
                }
                None => state
                    .get_or_insert_with(key, || Some(record))?
                    .as_mut()
                    .expect("just inserted"),
            };
            if !self.emit_final_only {
                produced.push(reduced.clone(), timestamp);
            }
        }
        out.collect(Batch::from_records(produced))
    }

    fn finish(&mut self, out: &mut dyn Output) -> Result<()> {
        match (&self.state, self.emit_final_only) {
            (Some(state), true) => out.collect(Batch::from_vec(
                state
                    .iter()
                    .filter_map(|(_, v)| v.clone())
                    .collect::<Vec<T>>(),
            )),
            _ => Ok(()),
        }
    }
}

/// Hands batches to a [`SinkWriter`].
pub(crate) struct SinkOperator<T> {
    writer: Box<dyn SinkWriter<T>>,
}

impl<T: Record> SinkOperator<T> {
    pub(crate) fn factory(sink: impl Sink<T>) -> OperatorFactory {
        let sink = Arc::new(sink);
        Arc::new(move |ctx| {
            Ok(Box::new(SinkOperator {
                writer: sink.create_writer(ctx)?,
            }) as Box<dyn StreamOperator>)
        })
    }
}

impl<T: Record> StreamOperator for SinkOperator<T> {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.writer.open(ctx)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, _out: &mut dyn Output) -> Result<()> {
        self.writer.write(batch.into_vec::<T>())
    }

    fn finish(&mut self, _out: &mut dyn Output) -> Result<()> {
        self.writer.finish()
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.writer.snapshot_state(snapshot)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        self.writer.notify_checkpoint_complete(checkpoint_id)
    }
}
