//! Retractable accumulators of COUNT, SUM, MIN, MAX and AVG (with DISTINCT) and of
//! user-defined aggregate functions, and the state of one group: what a SQL aggregation keeps
//! per key in keyed state.
//!
//! An accumulator is *full* (the state of a group: every value of MIN, MAX and DISTINCT is
//! kept with a positive multiplicity) or *partial* (what a local pre-aggregation gathered in
//! one mini-batch: changes of multiplicities, of either sign, to be merged into a full one).
//! Over insert-only input, MIN and MAX keep only their extreme value, as Flink's
//! non-retracting `MinAggFunction` and `MaxAggFunction` do.

use std::collections::BTreeMap;

use datafusion_common::ScalarValue;
use serde::{Deserialize, Serialize};
use weir_core::{Result, WeirError};

use super::value::Value;
use crate::plan::{AggCall, AggKind, UserAggCall};

/// The accumulator of one aggregate call.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Accumulator {
    /// Non-null values counted (all rows for `COUNT(*)`).
    count: i64,
    /// Their sum (SUM, AVG).
    sum: Option<Value>,
    /// Each value with its multiplicity (MIN, MAX, and DISTINCT calls; only the extreme for
    /// MIN and MAX over insert-only input).
    values: BTreeMap<Value, i64>,
    /// The encoded accumulator of a user-defined function, once it has taken a row.
    user: Option<Vec<u8>>,
}

/// The arguments of a user-defined function's call from the call's `value` (one argument, or
/// a [`Value::Row`] of several), each of its declared type.
fn user_arguments(call: &UserAggCall, value: Value) -> Result<Vec<ScalarValue>> {
    let values = match value {
        Value::Row(values) => values,
        value => vec![value],
    };
    values
        .iter()
        .zip(&call.arg_types)
        .map(|(v, t)| {
            let scalar = v.scalar(t);
            if scalar.data_type() == *t {
                return Ok(scalar);
            }
            scalar
                .cast_to(t)
                .map_err(|e| WeirError::Other(e.to_string()))
        })
        .collect()
}

/// Whether `call` keeps its values with their multiplicities.
fn keeps_values(call: &AggCall) -> bool {
    call.distinct || matches!(call.kind, AggKind::Min | AggKind::Max)
}

/// Whether `call` needs only its extreme value: MIN or MAX over insert-only input.
fn keeps_only_extreme(call: &AggCall) -> bool {
    call.insert_only && !call.distinct && matches!(call.kind, AggKind::Min | AggKind::Max)
}

impl Accumulator {
    /// Adds (`retract` false) or removes one input value of a user-defined function's call.
    fn update_user(&mut self, call: &UserAggCall, value: Value, retract: bool) -> Result<()> {
        let args = user_arguments(call, value)?;
        call.function.update(&mut self.user, &args, retract)
    }

    /// Adds (`retract` false) or removes one input value.
    pub fn update(&mut self, call: &AggCall, value: Value, retract: bool) -> Result<()> {
        if let AggKind::User(user) = &call.kind {
            return self.update_user(user, value, retract);
        }
        if call.arg.is_some() && matches!(value, Value::Null) {
            return Ok(());
        }
        let delta = if retract { -1 } else { 1 };
        if keeps_values(call) {
            let (before, after) = self.shift(&value, delta, true);
            self.drop_beyond_extreme(call);
            // A distinct value only counts when it appears first or disappears last.
            if call.distinct && (before > 0) == (after > 0) {
                return Ok(());
            }
        }
        self.add(call, &value, delta);
        Ok(())
    }

    /// Adds or removes one input value of a partial accumulator.
    pub fn update_partial(&mut self, call: &AggCall, value: Value, retract: bool) -> Result<()> {
        if let AggKind::User(user) = &call.kind {
            return self.update_user(user, value, retract);
        }
        if call.arg.is_some() && matches!(value, Value::Null) {
            return Ok(());
        }
        let delta = if retract { -1 } else { 1 };
        if keeps_values(call) {
            self.shift(&value, delta, false);
            self.drop_beyond_extreme(call);
            if call.distinct {
                return Ok(()); // counted when merged, against the group's own values
            }
        }
        self.add(call, &value, delta);
        Ok(())
    }

    /// Merges the partial accumulator `partial` into this full one.
    pub fn merge(&mut self, call: &AggCall, partial: Accumulator) -> Result<()> {
        if let AggKind::User(user) = &call.kind {
            return user.function.merge(&mut self.user, partial.user);
        }
        if !call.distinct {
            self.count += partial.count;
            if let Some(sum) = partial.sum {
                self.sum = Some(self.sum.take().unwrap_or(Value::Null).add(&sum, false));
            }
        }
        if keeps_values(call) {
            for (value, delta) in partial.values {
                let (before, after) = self.shift(&value, delta, true);
                if call.distinct && (before > 0) != (after > 0) {
                    self.add(call, &value, if after > 0 { 1 } else { -1 });
                }
            }
            self.drop_beyond_extreme(call);
        }
        Ok(())
    }

    /// For MIN or MAX over insert-only input, forgets every value but the extreme one (it
    /// can never be retracted, so the others can never become the result).
    fn drop_beyond_extreme(&mut self, call: &AggCall) {
        if !keeps_only_extreme(call) {
            return;
        }
        while self.values.len() > 1 {
            match call.kind {
                AggKind::Min => self.values.pop_last(),
                _ => self.values.pop_first(),
            };
        }
    }

    /// Counts `value` once more (`delta` 1) or once less (-1) in the count and sum.
    fn add(&mut self, call: &AggCall, value: &Value, delta: i64) {
        self.count += delta;
        if matches!(call.kind, AggKind::Sum | AggKind::Avg) {
            self.sum = Some(self.sum.take().unwrap_or(Value::Null).add(value, delta < 0));
        }
    }

    /// Adds `delta` to the multiplicity of `value`; returns it before and after. A full
    /// accumulator (`full`) forgets values whose multiplicity is not positive, a partial one
    /// those whose multiplicity is zero.
    fn shift(&mut self, value: &Value, delta: i64, full: bool) -> (i64, i64) {
        let n = self.values.entry(value.clone()).or_insert(0);
        let before = *n;
        *n += delta;
        let after = *n;
        if after == 0 || (full && after < 0) {
            self.values.remove(value);
        }
        (before, after)
    }

    /// The aggregate's current result.
    pub fn result(&self, call: &AggCall) -> Result<Value> {
        Ok(match &call.kind {
            AggKind::User(user) => Value::from_scalar(user.function.value(self.user.as_deref())?),
            AggKind::Count => Value::Int(self.count),
            AggKind::Sum | AggKind::Avg if self.count <= 0 => Value::Null,
            AggKind::Sum => self.sum.clone().unwrap_or(Value::Null),
            AggKind::Avg => match self.sum.as_ref().and_then(Value::as_f64) {
                Some(sum) => Value::Float(sum / self.count as f64),
                None => Value::Null,
            },
            AggKind::Min => self.values.keys().next().cloned().unwrap_or(Value::Null),
            AggKind::Max => self
                .values
                .keys()
                .next_back()
                .cloned()
                .unwrap_or(Value::Null),
        })
    }
}

/// What a group keeps: how many rows it holds and one accumulator per aggregate call.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GroupState {
    /// Rows accumulated minus rows retracted.
    pub rows: i64,
    /// One per aggregate call.
    pub accumulators: Vec<Accumulator>,
}

impl GroupState {
    /// An empty group for `calls`.
    pub fn new(calls: &[AggCall]) -> Self {
        GroupState {
            rows: 0,
            accumulators: vec![Accumulator::default(); calls.len()],
        }
    }

    /// Adds (`retract` false) or removes one row whose call arguments are `arguments` (see
    /// [`arguments`](super::keyed::arguments)); `partial` for a partial group.
    pub fn update(
        &mut self,
        calls: &[AggCall],
        arguments: Vec<Option<Value>>,
        retract: bool,
        partial: bool,
    ) -> Result<()> {
        for ((acc, call), value) in self.accumulators.iter_mut().zip(calls).zip(arguments) {
            match value {
                Some(value) if partial => acc.update_partial(call, value, retract)?,
                Some(value) => acc.update(call, value, retract)?,
                None => {}
            }
        }
        self.rows += if retract { -1 } else { 1 };
        Ok(())
    }

    /// Merges the partial group `partial` into this one.
    pub fn merge(&mut self, calls: &[AggCall], partial: GroupState) -> Result<()> {
        for ((acc, call), other) in self
            .accumulators
            .iter_mut()
            .zip(calls)
            .zip(partial.accumulators)
        {
            acc.merge(call, other)?;
        }
        self.rows += partial.rows;
        Ok(())
    }

    /// The results of all calls.
    pub fn results(&self, calls: &[AggCall]) -> Result<Vec<Value>> {
        self.accumulators
            .iter()
            .zip(calls)
            .map(|(a, c)| a.result(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(kind: AggKind, distinct: bool) -> AggCall {
        AggCall {
            kind,
            arg: Some(0),
            distinct,
            filter: None,
            insert_only: false,
            display: String::new(),
        }
    }

    #[test]
    fn max_retracts_to_the_previous_maximum() {
        let c = call(AggKind::Max, false);
        let mut a = Accumulator::default();
        for v in [3, 7, 5] {
            a.update(&c, Value::Int(v), false).unwrap();
        }
        a.update(&c, Value::Int(7), true).unwrap();
        assert_eq!(a.result(&c).unwrap(), Value::Int(5));
    }

    /// Over insert-only input MIN and MAX hold one value, and give what the retracting
    /// accumulators give, also when partial accumulators are merged.
    #[test]
    fn insert_only_min_and_max_keep_only_the_extreme() {
        let values = [4, 9, 1, 7, 9, 2];
        for (kind, expected) in [(AggKind::Min, 1), (AggKind::Max, 9)] {
            let c = AggCall {
                insert_only: true,
                ..call(kind.clone(), false)
            };
            let mut a = Accumulator::default();
            for v in values {
                a.update(&c, Value::Int(v), false).unwrap();
                assert_eq!(a.values.len(), 1, "{kind:?}");
            }
            assert_eq!(a.result(&c).unwrap(), Value::Int(expected), "{kind:?}");
            let mut merged = Accumulator::default();
            for chunk in values.chunks(4) {
                let mut partial = Accumulator::default();
                for v in chunk {
                    partial.update_partial(&c, Value::Int(*v), false).unwrap();
                }
                assert_eq!(partial.values.len(), 1, "{kind:?}");
                merged.merge(&c, partial).unwrap();
            }
            assert_eq!(merged.values.len(), 1, "{kind:?}");
            assert_eq!(merged.result(&c).unwrap(), Value::Int(expected), "{kind:?}");
        }
    }

    #[test]
    fn merged_accumulators_equal_one_that_took_all_values() {
        for (kind, distinct) in [
            (AggKind::Count, false),
            (AggKind::Count, true),
            (AggKind::Sum, false),
            (AggKind::Sum, true),
            (AggKind::Avg, false),
            (AggKind::Min, false),
            (AggKind::Max, false),
        ] {
            let c = call(kind.clone(), distinct);
            let (mut left, mut right, mut all) = Default::default();
            for (i, v) in [4, 1, 4, 7, 1, 9].into_iter().enumerate() {
                let part: &mut Accumulator = if i % 2 == 0 { &mut left } else { &mut right };
                part.update(&c, Value::Int(v), false).unwrap();
                Accumulator::update(&mut all, &c, Value::Int(v), false).unwrap();
            }
            let mut merged: Accumulator = left;
            merged.merge(&c, right).unwrap();
            assert_eq!(
                merged.result(&c).unwrap(),
                all.result(&c).unwrap(),
                "{kind:?} distinct={distinct}"
            );
        }
    }

    #[test]
    fn distinct_count_and_sum_with_retraction() {
        let c = call(AggKind::Count, true);
        let mut a = Accumulator::default();
        for v in [1, 1, 2] {
            a.update(&c, Value::Int(v), false).unwrap();
        }
        assert_eq!(a.result(&c).unwrap(), Value::Int(2));
        a.update(&c, Value::Int(1), true).unwrap();
        assert_eq!(a.result(&c).unwrap(), Value::Int(2));
        a.update(&c, Value::Int(1), true).unwrap();
        assert_eq!(a.result(&c).unwrap(), Value::Int(1));
        let s = call(AggKind::Sum, false);
        let mut a = Accumulator::default();
        a.update(&s, Value::Int(4), false).unwrap();
        a.update(&s, Value::Int(4), true).unwrap();
        assert_eq!(a.result(&s).unwrap(), Value::Null);
    }

    /// Two partial groups merged into a full one give what updating the full one row by row
    /// gives, also for retractions and distinct values.
    #[test]
    fn merged_partials_equal_row_by_row_updates() {
        let calls = [
            call(AggKind::Count, true),
            call(AggKind::Sum, true),
            call(AggKind::Min, false),
            call(AggKind::Max, false),
            call(AggKind::Avg, false),
        ];
        let rows: [(i64, bool); 9] = [
            (5, false),
            (3, false),
            (5, false),
            (9, false),
            (5, true),
            (9, true),
            (3, true),
            (7, false),
            (5, true),
        ];
        let mut full = GroupState::new(&calls);
        let mut merged = GroupState::new(&calls);
        for chunk in rows.chunks(4) {
            let mut partial = GroupState::new(&calls);
            for (v, retract) in chunk {
                let args = vec![Some(Value::Int(*v)); calls.len()];
                full.update(&calls, args.clone(), *retract, false).unwrap();
                partial.update(&calls, args, *retract, true).unwrap();
            }
            merged.merge(&calls, partial).unwrap();
            assert_eq!(
                merged.results(&calls).unwrap(),
                full.results(&calls).unwrap()
            );
            assert_eq!(merged.rows, full.rows);
        }
        assert_eq!(
            full.results(&calls).unwrap(),
            vec![
                Value::Int(1),
                Value::Int(7),
                Value::Int(7),
                Value::Int(7),
                Value::Float(7.0)
            ]
        );
    }
}
