//! What both SQL aggregations share: group keys encoded as Arrow rows (bytes that hash to a
//! key group), the per-group [`GroupState`] in Weir's keyed state backend, event-time timers,
//! and the building of output batches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use weir_core::{Result, WeirError};
use weir_runtime::keyed::open_keyed_state;
use weir_runtime::OperatorContext;
use weir_state::{
    KeyedStateBackend, StateAccess, StateSnapshot, StateTtlConfig, TimerService, ValueState,
};

use super::accumulators::GroupState;
use super::value::{to_array, Value};
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::{AggCall, AggKind};

/// `table.exec.state.ttl` as the TTL of a keyed SQL operator's state: `None` when it is
/// zero (Flink's default: state never expires). Entries expire that long after they were
/// last written, in processing time, as in Flink.
pub fn state_ttl(ttl: Duration) -> Option<StateTtlConfig> {
    (!ttl.is_zero()).then(|| StateTtlConfig::new(ttl))
}

/// `state` expiring after `ttl` (`table.exec.state.ttl`; zero keeps it forever).
pub fn expiring<V>(state: ValueState<V>, ttl: Duration) -> ValueState<V> {
    match state_ttl(ttl) {
        Some(ttl) => state.with_ttl(ttl),
        None => state,
    }
}

/// A group key: the key columns of a row in Arrow's row format.
pub type GroupKey = Vec<u8>;

/// Encodes the first `keys` columns of batches as group keys and back.
pub struct KeyCodec {
    converter: RowConverter,
    keys: usize,
}

impl KeyCodec {
    /// A codec for the first `keys` columns of `schema`.
    pub fn new(schema: &SchemaRef, keys: usize) -> Result<Self> {
        let fields = schema.fields()[..keys]
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect();
        let converter = RowConverter::new(fields).map_err(|e| WeirError::Other(e.to_string()))?;
        Ok(KeyCodec { converter, keys })
    }

    /// The keys of every row of `batch` (all empty when there are no key columns).
    pub fn encode(&self, batch: &RecordBatch) -> Result<Vec<GroupKey>> {
        if self.keys == 0 {
            return Ok(vec![GroupKey::new(); batch.num_rows()]);
        }
        let rows = self
            .converter
            .convert_columns(&batch.columns()[..self.keys])
            .map_err(|e| WeirError::Other(e.to_string()))?;
        Ok(rows.iter().map(|r| r.as_ref().to_vec()).collect())
    }

    /// How many key columns there are.
    pub fn key_count(&self) -> usize {
        self.keys
    }

    /// The key columns of `keys`.
    pub fn decode(&self, keys: &[GroupKey]) -> Result<Vec<ArrayRef>> {
        if self.keys == 0 {
            return Ok(Vec::new());
        }
        let parser = self.converter.parser();
        self.converter
            .convert_rows(keys.iter().map(|k| parser.parse(k)))
            .map_err(|e| WeirError::Other(e.to_string()))
    }
}

/// Keyed state positioned on one key, for state handles.
pub struct Access<'a>(&'a mut KeyedStateBackend<GroupKey>);

impl StateAccess<GroupKey> for Access<'_> {
    fn backend(&mut self) -> &mut KeyedStateBackend<GroupKey> {
        self.0
    }
}

/// The keyed state backend and event-time timers of a keyed SQL operator's subtask, by key
/// group, so that checkpoints cover them and restore them on any parallelism.
pub struct KeyedStore {
    /// Event-time timers per key.
    pub timers: TimerService<GroupKey>,
    state: Option<KeyedStateBackend<GroupKey>>,
    max_parallelism: usize,
}

impl Default for KeyedStore {
    fn default() -> Self {
        KeyedStore {
            timers: TimerService::default(),
            state: None,
            max_parallelism: 128,
        }
    }
}

impl KeyedStore {
    /// Creates the state backend `state.backend.type` chooses for the subtask's key groups
    /// (heap or RocksDB) and restores its state and timers.
    pub fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.state = Some(open_keyed_state(ctx, &mut self.timers)?);
        self.max_parallelism = ctx.max_parallelism;
        Ok(())
    }

    /// Adds the state and timers to a checkpoint.
    pub fn snapshot(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        if let Some(state) = self.state.as_mut() {
            state.snapshot(snapshot)?;
            self.timers.snapshot(self.max_parallelism, snapshot);
        }
        Ok(())
    }

    /// The state of `key`.
    pub fn access(&mut self, key: GroupKey) -> Result<Access<'_>> {
        let state = self.state.as_mut().expect("open() runs before any input");
        state.set_current_key(key)?;
        Ok(Access(state))
    }
}

/// Keyed group state and timers of an aggregation subtask, and the rows it emits.
pub struct AggCore {
    /// The aggregate calls.
    pub calls: Arc<Vec<AggCall>>,
    /// The key codec of the aggregation's input.
    pub codec: KeyCodec,
    /// The output schema: the keys, then the values of each emitted row (one per call, or the
    /// window and one per call).
    pub schema: SchemaRef,
    /// The groups' state and timers.
    pub store: KeyedStore,
    group: ValueState<GroupState>,
    pending: Vec<(RowKind, GroupKey, Vec<Value>)>,
}

impl AggCore {
    /// The core of an aggregation with `calls` whose input's first `keys` columns (of
    /// `input`) are the group key, producing rows of `schema`.
    pub fn new(
        calls: Arc<Vec<AggCall>>,
        input: &SchemaRef,
        keys: usize,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(AggCore {
            calls,
            codec: KeyCodec::new(input, keys)?,
            schema,
            store: KeyedStore::default(),
            group: ValueState::new("group"),
            pending: Vec::new(),
        })
    }

    /// Lets a group's state expire `ttl` after its last change (`table.exec.state.ttl`; zero
    /// keeps it forever): a group that comes back after that starts again from nothing.
    pub fn with_state_ttl(mut self, ttl: Duration) -> Self {
        self.group = expiring(self.group, ttl);
        self
    }

    /// Creates the state backend for the subtask's key groups and restores its state.
    pub fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.store.open(ctx)
    }

    /// Adds the groups and timers to a checkpoint.
    pub fn snapshot(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.store.snapshot(snapshot)
    }

    /// Takes the state of group `key` out of keyed state, if it has one (put it back with
    /// [`put`](Self::put)).
    pub fn take(&mut self, key: &GroupKey) -> Result<Option<GroupState>> {
        let group = self.group.clone();
        group.take(&mut self.store.access(key.clone())?)
    }

    /// Stores the state of group `key`.
    pub fn put(&mut self, key: &GroupKey, state: GroupState) -> Result<()> {
        let group = self.group.clone();
        group.update(&mut self.store.access(key.clone())?, state)
    }

    /// Queues an output row: the group's key and aggregate results.
    pub fn emit(&mut self, kind: RowKind, key: GroupKey, results: Vec<Value>) {
        self.pending.push((kind, key, results));
    }

    /// Builds a batch of the queued rows, if there are any.
    pub fn take_output(&mut self) -> Result<Option<ChangeBatch>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let pending = std::mem::take(&mut self.pending);
        let keys: Vec<GroupKey> = pending.iter().map(|(_, k, _)| k.clone()).collect();
        let mut columns = self.codec.decode(&keys)?;
        let key_count = columns.len();
        for c in 0..self.schema.fields().len() - key_count {
            let values: Vec<Value> = pending.iter().map(|(_, _, r)| r[c].clone()).collect();
            let field = self.schema.field(key_count + c);
            columns.push(to_array(&values, field.data_type()).map_err(WeirError::from)?);
        }
        let columns = columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c)
                } else {
                    arrow::compute::cast(&c, f.data_type())
                        .map_err(|e| WeirError::Other(e.to_string()))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| WeirError::Other(e.to_string()))?;
        let kinds: Vec<RowKind> = pending.iter().map(|(k, _, _)| *k).collect();
        let insert_only = kinds.iter().all(|k| *k == RowKind::Insert);
        Ok(Some(ChangeBatch {
            rows,
            kinds: (!insert_only).then_some(kinds),
        }))
    }
}

/// The rows of each key of `keys` (one per row of a batch), keys in order of first
/// appearance and rows in order, leaving out the rows `skip` names: an operator reads and
/// writes each key's state once per batch, not once per row.
pub fn rows_by_key(
    keys: &[GroupKey],
    skip: impl Fn(usize) -> bool,
) -> Vec<(&GroupKey, Vec<usize>)> {
    let mut index: HashMap<&GroupKey, usize> = HashMap::new();
    let mut groups: Vec<(&GroupKey, Vec<usize>)> = Vec::new();
    for (row, key) in keys.iter().enumerate() {
        if skip(row) {
            continue;
        }
        let i = *index.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(row);
    }
    groups
}

/// The values of the call arguments of row `row` (NULL for `COUNT(*)`); `None` for a call
/// whose `FILTER` leaves the row out.
pub fn arguments(calls: &[AggCall], batch: &RecordBatch, row: usize) -> Vec<Option<Value>> {
    calls
        .iter()
        .map(|c| {
            let taken = c.filter.is_none_or(|f| {
                let flags = batch.column(f).as_boolean();
                flags.is_valid(row) && flags.value(row)
            });
            let read = |column: usize| Value::read(batch.column(column).as_ref(), row);
            taken.then(|| match &c.kind {
                AggKind::User(user) if user.args.len() != 1 => {
                    Value::Row(user.args.iter().map(|a| read(*a)).collect())
                }
                AggKind::User(user) => read(user.args[0]),
                _ => c.arg.map_or(Value::Null, read),
            })
        })
        .collect()
}
