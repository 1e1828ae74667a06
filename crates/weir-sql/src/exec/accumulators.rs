//! Retractable accumulators of COUNT, SUM, MIN, MAX and AVG (with DISTINCT), and the state
//! of one group: what a SQL aggregation keeps per key in keyed state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::value::Value;
use crate::plan::{AggCall, AggKind};

/// The accumulator of one aggregate call.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Accumulator {
    /// Non-null values counted (all rows for `COUNT(*)`).
    count: i64,
    /// Their sum (SUM, AVG).
    sum: Option<Value>,
    /// Each value with its multiplicity (MIN, MAX, and DISTINCT calls).
    values: BTreeMap<Value, i64>,
}

impl Accumulator {
    /// Adds (`retract` false) or removes one input value.
    pub fn update(&mut self, call: &AggCall, value: Value, retract: bool) {
        if call.arg.is_some() && matches!(value, Value::Null) {
            return;
        }
        let delta = if retract { -1 } else { 1 };
        let keeps_values = call.distinct || matches!(call.kind, AggKind::Min | AggKind::Max);
        if keeps_values {
            let n = self.values.entry(value.clone()).or_insert(0);
            *n += delta;
            let now = *n;
            if now <= 0 {
                self.values.remove(&value);
            }
            // A distinct value only counts when it appears first or disappears last.
            if call.distinct && !((delta == 1 && now == 1) || (delta == -1 && now == 0)) {
                return;
            }
        }
        self.count += delta;
        if matches!(call.kind, AggKind::Sum | AggKind::Avg) {
            self.sum = Some(self.sum.take().unwrap_or(Value::Null).add(&value, retract));
        }
    }

    /// Adds the values `other` took (both of `call`), as when two session windows merge.
    pub fn merge(&mut self, call: &AggCall, other: Accumulator) {
        for (value, n) in other.values {
            let mine = self.values.entry(value.clone()).or_insert(0);
            let first = *mine == 0;
            *mine += n;
            // A distinct value counts once, when it is new to this accumulator.
            if call.distinct && first {
                self.count += 1;
                if matches!(call.kind, AggKind::Sum | AggKind::Avg) {
                    self.sum = Some(self.sum.take().unwrap_or(Value::Null).add(&value, false));
                }
            }
        }
        if !call.distinct {
            self.count += other.count;
            if let Some(sum) = other.sum {
                self.sum = Some(self.sum.take().unwrap_or(Value::Null).add(&sum, false));
            }
        }
    }

    /// The aggregate's current result.
    pub fn result(&self, call: &AggCall) -> Value {
        match call.kind {
            AggKind::Count => Value::Int(self.count),
            _ if self.count <= 0 && call.kind != AggKind::Min && call.kind != AggKind::Max => {
                Value::Null
            }
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
        }
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

    /// Adds one row, given the values of its call arguments (`None` where a call's `FILTER`
    /// leaves the row out).
    pub fn accumulate(&mut self, calls: &[AggCall], args: Vec<Option<Value>>) {
        for ((acc, call), value) in self.accumulators.iter_mut().zip(calls).zip(args) {
            if let Some(value) = value {
                acc.update(call, value, false);
            }
        }
        self.rows += 1;
    }

    /// Adds the rows of `other` (of the same calls), as when two session windows merge.
    pub fn merge(&mut self, calls: &[AggCall], other: GroupState) {
        self.rows += other.rows;
        for ((acc, call), theirs) in self
            .accumulators
            .iter_mut()
            .zip(calls)
            .zip(other.accumulators)
        {
            acc.merge(call, theirs);
        }
    }

    /// The results of all calls.
    pub fn results(&self, calls: &[AggCall]) -> Vec<Value> {
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
            display: String::new(),
        }
    }

    #[test]
    fn max_retracts_to_the_previous_maximum() {
        let c = call(AggKind::Max, false);
        let mut a = Accumulator::default();
        for v in [3, 7, 5] {
            a.update(&c, Value::Int(v), false);
        }
        a.update(&c, Value::Int(7), true);
        assert_eq!(a.result(&c), Value::Int(5));
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
            let c = call(kind, distinct);
            let (mut left, mut right, mut all) = Default::default();
            for (i, v) in [4, 1, 4, 7, 1, 9].into_iter().enumerate() {
                let part: &mut Accumulator = if i % 2 == 0 { &mut left } else { &mut right };
                part.update(&c, Value::Int(v), false);
                Accumulator::update(&mut all, &c, Value::Int(v), false);
            }
            let mut merged: Accumulator = left;
            merged.merge(&c, right);
            assert_eq!(
                merged.result(&c),
                all.result(&c),
                "{kind:?} distinct={distinct}"
            );
        }
    }

    #[test]
    fn distinct_count_and_sum_with_retraction() {
        let c = call(AggKind::Count, true);
        let mut a = Accumulator::default();
        for v in [1, 1, 2] {
            a.update(&c, Value::Int(v), false);
        }
        assert_eq!(a.result(&c), Value::Int(2));
        a.update(&c, Value::Int(1), true);
        assert_eq!(a.result(&c), Value::Int(2));
        a.update(&c, Value::Int(1), true);
        assert_eq!(a.result(&c), Value::Int(1));
        let s = call(AggKind::Sum, false);
        let mut a = Accumulator::default();
        a.update(&s, Value::Int(4), false);
        a.update(&s, Value::Int(4), true);
        assert_eq!(a.result(&s), Value::Null);
    }
}
