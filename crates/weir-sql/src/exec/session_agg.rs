//! Session window aggregation: per key, each row's window `[ts, ts + gap)` merges with the
//! key's sessions it overlaps or touches (Flink's rule: windows that meet merge too), so a
//! late-arriving row can bridge two sessions; each session's result is emitted once, as an
//! insert, when the watermark passes its end. A row whose window, merged, ends at or before
//! the watermark is late and dropped. The sessions of a key live in Weir's keyed state, with an
//! event-time timer at the end of each, so checkpoints cover them.

use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use weir_core::element::{Batch, Watermark};
use weir_core::Result;
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_state::{Namespace, StateSnapshot, TimeDomain, ValueState};

use super::accumulators::GroupState;
use super::keyed::{arguments, rows_by_key, AggCore, GroupKey};
use super::value::{timestamps_ms, Value};
use crate::changelog::{ChangeBatch, RowKind};
use crate::plan::AggCall;

/// One session of a key: its window `[start, end)` and the state of its aggregates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The time of its first row.
    pub start: i64,
    /// The time of its last row plus the gap.
    pub end: i64,
    /// Its aggregates.
    pub group: GroupState,
}

impl Session {
    /// Whether the window `[start, end)` overlaps or touches this session's.
    fn meets(&self, start: i64, end: i64) -> bool {
        self.start <= end && start <= self.end
    }

    /// When the watermark makes the session fire: its last millisecond.
    fn fire_at(&self) -> i64 {
        self.end - 1
    }
}

/// The session window aggregation operator.
pub struct SessionAggOperator {
    core: AggCore,
    time_column: usize,
    gap_ms: i64,
    sessions: ValueState<Vec<Session>>,
}

impl SessionAggOperator {
    /// An aggregation of `calls` in sessions with `gap_ms` of inactivity, per key of the first
    /// `keys` columns of `input`, whose column `keys` is each row's time; it produces `schema`
    /// (the keys, `window_start`, `window_end`, one column per call).
    pub fn new(
        calls: Arc<Vec<AggCall>>,
        input: &SchemaRef,
        keys: usize,
        gap_ms: i64,
        schema: SchemaRef,
    ) -> Result<Self> {
        Ok(SessionAggOperator {
            core: AggCore::new(calls, input, keys, schema)?,
            time_column: keys,
            gap_ms,
            sessions: ValueState::new("sessions"),
        })
    }

    fn load(&mut self, key: &GroupKey) -> Result<Vec<Session>> {
        let state = self.sessions.clone();
        Ok(state
            .value(&mut self.core.store.access(key.clone())?)?
            .unwrap_or_default())
    }

    fn store(&mut self, key: &GroupKey, sessions: Vec<Session>) -> Result<()> {
        let state = self.sessions.clone();
        let mut access = self.core.store.access(key.clone())?;
        if sessions.is_empty() {
            state.clear(&mut access)
        } else {
            state.update(&mut access, sessions)
        }
    }

    /// Adds the row at `time` with the call arguments `args` to the `sessions` of `key`;
    /// returns false (and changes nothing) when it is late.
    fn add(
        &mut self,
        key: &GroupKey,
        sessions: &mut Vec<Session>,
        time: i64,
        args: Vec<Option<Value>>,
    ) -> Result<bool> {
        let (mut start, mut end) = (time, time + self.gap_ms);
        for s in sessions
            .iter()
            .filter(|s| s.meets(time, time + self.gap_ms))
        {
            start = start.min(s.start);
            end = end.max(s.end);
        }
        let timers = &mut self.core.store.timers;
        if end - 1 <= timers.watermark() {
            return Ok(false);
        }
        let calls = self.core.calls.clone();
        let mut merged = GroupState::new(&calls);
        let mut kept = Vec::with_capacity(sessions.len());
        for s in sessions.drain(..) {
            if s.meets(time, time + self.gap_ms) {
                timers.delete(TimeDomain::EventTime, s.fire_at(), key, Namespace::Void);
                merged.merge(&calls, s.group)?;
            } else {
                kept.push(s);
            }
        }
        merged.update(&calls, args, false, false)?;
        let session = Session {
            start,
            end,
            group: merged,
        };
        timers.register(
            TimeDomain::EventTime,
            session.fire_at(),
            key.clone(),
            Namespace::Void,
        );
        kept.push(session);
        *sessions = kept;
        Ok(true)
    }
}

impl StreamOperator for SessionAggOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.core.open(ctx)
    }

    fn snapshot_state(&mut self, snapshot: &mut StateSnapshot) -> Result<()> {
        self.core.snapshot(snapshot)
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, _out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        let keys = self.core.codec.encode(&change.rows)?;
        let times = timestamps_ms(change.rows.column(self.time_column))?;
        for (key, rows) in rows_by_key(&keys, |row| times.is_null(row)) {
            let mut sessions = self.load(key)?;
            let mut changed = false;
            for row in rows {
                let args = arguments(&self.core.calls, &change.rows, row);
                changed |= self.add(key, &mut sessions, times.value(row), args)?;
            }
            if changed {
                self.store(key, sessions)?;
            }
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output) -> Result<()> {
        self.core.store.timers.advance_watermark(watermark.0);
        let calls = self.core.calls.clone();
        while let Some((_, key, _)) = self.core.store.timers.pop_event_timer() {
            let sessions = self.load(&key)?;
            let (due, open): (Vec<Session>, Vec<Session>) = sessions
                .into_iter()
                .partition(|s| s.fire_at() <= watermark.0);
            if due.is_empty() {
                continue;
            }
            for s in due {
                let mut values = vec![Value::Int(s.start), Value::Int(s.end)];
                values.extend(s.group.results(&calls)?);
                self.core.emit(RowKind::Insert, key.clone(), values);
            }
            self.store(&key, open)?;
        }
        if let Some(output) = self.core.take_output()? {
            out.collect(output.into_batch())?;
        }
        out.emit_watermark(watermark)
    }
}
