//! Watermarks of a Kafka table generated in its source, per partition (Flink pushes a
//! table's watermark into the Kafka source the same way): each partition a subtask reads has
//! its own watermark, the highest value of the watermark expression over its records, and the
//! subtask's is the minimum over its partitions, so that reading one partition ahead of
//! another makes no record late. The source can do this for the usual watermarks,
//! `rowtime` or `rowtime - INTERVAL ...` over a physical `TIMESTAMP(3)` column; any other
//! is left to the plan's WatermarkAssigner after the source.

use arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use arrow::datatypes::{DataType, TimeUnit};
use datafusion_expr::{BinaryExpr, Expr, Operator};
use weir_core::element::Watermark;
use weir_runtime::watermark::{WatermarkGenerator, WatermarkOutput, WatermarkStrategy};

use crate::catalog::Table;

/// A watermark `rowtime - delay` the Kafka source generates per partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionWatermark {
    /// The physical column of the event time.
    pub rowtime: usize,
    /// How far the watermark trails the highest event time, in milliseconds.
    pub delay_ms: i64,
}

impl PartitionWatermark {
    /// The watermark of `table` if the source can generate it (see the module documentation).
    pub fn of(table: &Table) -> Option<Self> {
        let (column, expr) = table.watermark.as_ref()?;
        let name = table.schema.field(*column).name();
        let rowtime = table.physical_schema.index_of(name).ok()?;
        let timestamp = DataType::Timestamp(TimeUnit::Millisecond, None);
        if table.physical_schema.field(rowtime).data_type() != &timestamp {
            return None;
        }
        let is_rowtime = |e: &Expr| matches!(uncast(e), Expr::Column(c) if c.name == *name);
        let delay_ms = match uncast(expr) {
            e if is_rowtime(e) => 0,
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Minus,
                right,
            }) if is_rowtime(left) => match uncast(right) {
                Expr::Literal(interval, _) => crate::types::interval_ms(interval)?,
                _ => return None,
            },
            _ => return None,
        };
        Some(PartitionWatermark { rowtime, delay_ms })
    }

    /// The strategy for records whose column texts `fields` yields.
    pub fn strategy<T: 'static>(
        self,
        fields: impl Fn(&T) -> Option<&[Option<String>]> + Send + Sync + 'static,
    ) -> WatermarkStrategy<T> {
        let delay_ms = self.delay_ms;
        WatermarkStrategy::for_generator(move || HighestEventTime {
            highest: None,
            delay_ms,
        })
        .with_timestamp_assigner(move |record: &T, _| {
            Ok(fields(record)
                .and_then(|f| f[self.rowtime].as_deref())
                .and_then(|text| string_to_timestamp_nanos(text.trim()).ok())
                .map_or(i64::MIN, |nanos| nanos.div_euclid(1_000_000)))
        })
    }
}

fn uncast(expr: &Expr) -> &Expr {
    match expr {
        Expr::Cast(cast) => uncast(&cast.expr),
        Expr::TryCast(cast) => uncast(&cast.expr),
        other => other,
    }
}

/// The watermark of one partition: its highest event time (records without one, `i64::MIN`,
/// are ignored) minus the delay.
struct HighestEventTime {
    highest: Option<i64>,
    delay_ms: i64,
}

impl<T> WatermarkGenerator<T> for HighestEventTime {
    fn on_event(&mut self, _record: &T, timestamp: i64, _output: &mut WatermarkOutput) {
        if timestamp != i64::MIN {
            self.highest = Some(self.highest.map_or(timestamp, |h| h.max(timestamp)));
        }
    }

    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        if let Some(highest) = self.highest {
            output.emit(Watermark(highest - self.delay_ms));
        }
    }
}
