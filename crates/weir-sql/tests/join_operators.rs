//! The join operators driven by hand. The regular join's changelog is checked against a
//! reference computed from scratch: after every input change, the rows the changelog has
//! produced so far must be exactly the join (inner, left, right or full, with a non-equi
//! condition) of the two inputs as they are then. The interval join's state cleanup and the
//! state TTL of the regular join are checked by what joins after them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, Int64Array, RecordBatch, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion_expr::Operator;
use datafusion_physical_expr::expressions::{lit, BinaryExpr, Column};
use weir_core::element::{Batch, Watermark, WatermarkStatus};
use weir_runtime::{OperatorContext, Output, StreamOperator};
use weir_sql::exec::interval_join::IntervalJoinOperator;
use weir_sql::exec::join::JoinOperator;
use weir_sql::plan::{IntervalBounds, JoinKind};
use weir_sql::{ChangeBatch, RowKind};

/// A row of an input or of the output: (k, v) of the left, (k, v) of the right.
type Row = Vec<Option<i64>>;

#[derive(Default)]
struct Collected {
    batches: Vec<ChangeBatch>,
    watermarks: Vec<Watermark>,
}

impl Output for Collected {
    fn collect(&mut self, batch: Batch) -> weir_core::Result<()> {
        self.batches.push(ChangeBatch::from_batch(&batch));
        Ok(())
    }
    fn collect_side(&mut self, _tag: &str, _batch: Batch) -> weir_core::Result<()> {
        Ok(())
    }
    fn emit_watermark(&mut self, watermark: Watermark) -> weir_core::Result<()> {
        self.watermarks.push(watermark);
        Ok(())
    }
    fn emit_watermark_status(&mut self, _status: WatermarkStatus) -> weir_core::Result<()> {
        Ok(())
    }
}

impl Collected {
    /// The rows emitted since the last call, with their kinds.
    fn take(&mut self) -> Vec<(RowKind, Row)> {
        let mut rows = Vec::new();
        for batch in std::mem::take(&mut self.batches) {
            for r in 0..batch.rows.num_rows() {
                let values = batch
                    .rows
                    .columns()
                    .iter()
                    .map(|c| {
                        let c = arrow::compute::cast(c, &DataType::Int64).unwrap();
                        let c = c.as_any().downcast_ref::<Int64Array>().unwrap();
                        (!c.is_null(r)).then(|| c.value(r))
                    })
                    .collect();
                rows.push((batch.kind(r), values));
            }
        }
        rows
    }
}

/// An input's schema: the key, then the row (k, v).
fn input_schema(time: bool) -> SchemaRef {
    let value = if time {
        DataType::Timestamp(TimeUnit::Millisecond, None)
    } else {
        DataType::Int64
    };
    Arc::new(Schema::new(vec![
        Field::new("$key0", DataType::Int64, true),
        Field::new("k", DataType::Int64, true),
        Field::new("v", value, true),
    ]))
}

fn output_schema(time: bool) -> SchemaRef {
    let input = input_schema(time);
    let fields: Vec<Field> = [&input, &input]
        .iter()
        .flat_map(|s| s.fields()[1..].iter().map(|f| f.as_ref().clone()))
        .collect();
    Arc::new(Schema::new(fields))
}

/// A batch of rows (k, v) with the key column k, and row kinds.
fn batch(rows: &[(RowKind, Option<i64>, i64)], time: bool) -> Batch {
    let k = Arc::new(Int64Array::from(
        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
    ));
    let v: Arc<dyn Array> = if time {
        Arc::new(TimestampMillisecondArray::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        ))
    } else {
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        ))
    };
    let rows_batch = RecordBatch::try_new(input_schema(time), vec![k.clone(), k, v]).unwrap();
    ChangeBatch {
        rows: rows_batch,
        kinds: Some(rows.iter().map(|r| r.0).collect()),
    }
    .into_batch()
}

/// `left.v + right.v <= 4` over the output columns (k, v, k, v).
fn condition() -> Arc<dyn datafusion_physical_expr::PhysicalExpr> {
    let sum = Arc::new(BinaryExpr::new(
        Arc::new(Column::new("v", 1)),
        Operator::Plus,
        Arc::new(Column::new("v", 3)),
    ));
    Arc::new(BinaryExpr::new(sum, Operator::LtEq, lit(4i64)))
}

/// A small deterministic pseudo-random sequence (xorshift).
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The join of the two inputs' current rows, computed directly from its definition.
fn reference(
    kind: JoinKind,
    inputs: &[Vec<(Option<i64>, i64)>; 2],
    with_condition: bool,
) -> Vec<Row> {
    let joins = |l: &(Option<i64>, i64), r: &(Option<i64>, i64)| {
        l.0.is_some() && l.0 == r.0 && (!with_condition || l.1 + r.1 <= 4)
    };
    let mut out = Vec::new();
    for l in &inputs[0] {
        let mut matched = false;
        for r in &inputs[1] {
            if joins(l, r) {
                matched = true;
                out.push(vec![l.0, Some(l.1), r.0, Some(r.1)]);
            }
        }
        if !matched && kind.is_outer(0) {
            out.push(vec![l.0, Some(l.1), None, None]);
        }
    }
    for r in &inputs[1] {
        if kind.is_outer(1) && !inputs[0].iter().any(|l| joins(l, r)) {
            out.push(vec![None, None, r.0, Some(r.1)]);
        }
    }
    out.sort();
    out
}

/// Applies a changelog to a result; a retraction must remove a row that is there.
fn apply(result: &mut BTreeMap<Row, usize>, changes: Vec<(RowKind, Row)>) {
    for (kind, row) in changes {
        if kind.is_accumulate() {
            *result.entry(row).or_default() += 1;
        } else {
            let count = result
                .get_mut(&row)
                .unwrap_or_else(|| panic!("{kind:?} of a row that is not in the result: {row:?}"));
            *count -= 1;
            if *count == 0 {
                result.remove(&row);
            }
        }
    }
}

fn rows_of(result: &BTreeMap<Row, usize>) -> Vec<Row> {
    result
        .iter()
        .flat_map(|(row, n)| std::iter::repeat_n(row.clone(), *n))
        .collect()
}

fn regular_join(kind: JoinKind, with_condition: bool, ttl: Duration) -> JoinOperator {
    let input = input_schema(false);
    let mut join = JoinOperator::new(
        kind,
        [&input, &input],
        1,
        with_condition.then(condition),
        output_schema(false),
        ttl,
    )
    .unwrap();
    join.open(&OperatorContext::detached("join", "join"))
        .unwrap();
    join
}

/// Also with several rows per batch: the operator evaluates the condition once per batch,
/// while earlier rows of the batch change what later ones see (NULL-padded outer rows).
#[test]
fn the_changelog_always_adds_up_to_the_join_of_the_inputs() {
    for kind in [
        JoinKind::Inner,
        JoinKind::Left,
        JoinKind::Right,
        JoinKind::Full,
    ] {
        for (with_condition, rows_per_batch) in [(false, 1), (true, 1), (false, 4), (true, 4)] {
            let mut join = regular_join(kind, with_condition, Duration::ZERO);
            let mut out = Collected::default();
            let mut inputs: [Vec<(Option<i64>, i64)>; 2] = [Vec::new(), Vec::new()];
            let mut result = BTreeMap::new();
            let mut random = Random(0x2545_f491_4f6c_dd1d);
            for step in 0..400 {
                let side = random.below(2) as usize;
                let mut rows = Vec::new();
                for _ in 0..rows_per_batch {
                    let retract = !inputs[side].is_empty() && random.below(3) == 0;
                    rows.push(if retract {
                        let i = random.below(inputs[side].len() as u64) as usize;
                        let kind =
                            [RowKind::Delete, RowKind::UpdateBefore][random.below(2) as usize];
                        let row = inputs[side].remove(i);
                        (kind, row.0, row.1)
                    } else {
                        let k = [None, Some(0), Some(1), Some(2)][random.below(4) as usize];
                        let row = (k, random.below(4) as i64);
                        inputs[side].push(row);
                        let kind =
                            [RowKind::Insert, RowKind::UpdateAfter][random.below(2) as usize];
                        (kind, row.0, row.1)
                    });
                }
                join.process_batch(side, batch(&rows, false), &mut out)
                    .unwrap();
                apply(&mut result, out.take());
                assert_eq!(
                    rows_of(&result),
                    reference(kind, &inputs, with_condition),
                    "{kind:?} (condition: {with_condition}, {rows_per_batch} rows a batch) after step {step}: {rows:?} on input {side}"
                );
            }
        }
    }
}

#[test]
fn an_outer_row_is_padded_until_it_has_a_match() {
    // Flink's documented sequence for a LEFT JOIN (tests/sql/joins.expected shows it too).
    let mut join = regular_join(JoinKind::Left, false, Duration::ZERO);
    let mut out = Collected::default();
    let a = (RowKind::Insert, Some(1), 10);
    let b = (RowKind::Insert, Some(1), 20);
    join.process_batch(0, batch(&[a], false), &mut out).unwrap();
    assert_eq!(
        out.take(),
        vec![(RowKind::Insert, vec![Some(1), Some(10), None, None])]
    );
    join.process_batch(1, batch(&[b], false), &mut out).unwrap();
    assert_eq!(
        out.take(),
        vec![
            (RowKind::Delete, vec![Some(1), Some(10), None, None]),
            (RowKind::Insert, vec![Some(1), Some(10), Some(1), Some(20)]),
        ]
    );
    join.process_batch(1, batch(&[(RowKind::Delete, Some(1), 20)], false), &mut out)
        .unwrap();
    assert_eq!(
        out.take(),
        vec![
            (RowKind::Delete, vec![Some(1), Some(10), Some(1), Some(20)]),
            (RowKind::Insert, vec![Some(1), Some(10), None, None]),
        ]
    );
}

#[test]
fn rows_older_than_the_state_ttl_no_longer_join() {
    let mut join = regular_join(JoinKind::Inner, false, Duration::from_millis(200));
    let mut out = Collected::default();
    join.process_batch(0, batch(&[(RowKind::Insert, Some(1), 1)], false), &mut out)
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    join.process_batch(0, batch(&[(RowKind::Insert, Some(1), 2)], false), &mut out)
        .unwrap();
    join.process_batch(1, batch(&[(RowKind::Insert, Some(1), 3)], false), &mut out)
        .unwrap();
    assert_eq!(
        out.take(),
        vec![(RowKind::Insert, vec![Some(1), Some(2), Some(1), Some(3)])],
        "the row written before the TTL expired must not join"
    );
}

fn interval_join(kind: JoinKind, lower: i64, upper: i64) -> IntervalJoinOperator {
    let input = input_schema(true);
    let bounds = IntervalBounds {
        lower,
        upper,
        left_time: 1,
        right_time: 1,
    };
    let mut join =
        IntervalJoinOperator::new(kind, [&input, &input], 1, bounds, None, output_schema(true))
            .unwrap();
    join.open(&OperatorContext::detached("join", "join"))
        .unwrap();
    join
}

#[test]
fn interval_join_drops_rows_once_the_watermark_passes_their_bounds() {
    // left.t - right.t in [-100, 50]: a left row waits for right rows up to 100 ms later.
    let mut join = interval_join(JoinKind::Left, -100, 50);
    let mut out = Collected::default();
    let insert = |k: i64, t: i64| batch(&[(RowKind::Insert, Some(k), t)], true);
    join.process_batch(0, insert(1, 1000), &mut out).unwrap();
    join.process_batch(0, insert(2, 1000), &mut out).unwrap();
    join.process_batch(1, insert(1, 1100), &mut out).unwrap();
    join.process_batch(1, insert(1, 1101), &mut out).unwrap();
    assert_eq!(
        out.take(),
        vec![(
            RowKind::Insert,
            vec![Some(1), Some(1000), Some(1), Some(1100)]
        )]
    );
    // The left row of key 2 can join right rows up to 1100: it stays until the watermark
    // passes that, then is emitted padded.
    join.process_watermark(Watermark(1100), &mut out).unwrap();
    assert!(out.take().is_empty());
    join.process_watermark(Watermark(1101), &mut out).unwrap();
    assert_eq!(
        out.take(),
        vec![(RowKind::Insert, vec![Some(2), Some(1000), None, None])]
    );
    // The output watermark is held back by the longer retention (100 ms).
    assert_eq!(out.watermarks, vec![Watermark(1000), Watermark(1001)]);
    // A late right row finds nothing left to join.
    join.process_batch(1, insert(2, 1000), &mut out).unwrap();
    assert!(out.take().is_empty());
}
