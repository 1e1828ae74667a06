//! The function library: DataFusion's scalar and aggregate functions plus Flink's own
//! (`PROCTIME`, `TO_TIMESTAMP_LTZ`, `DATE_FORMAT`, `HOUR`, `CURRENT_WATERMARK`, and the
//! string functions of [`text`]), and the window function `ROW_NUMBER` (planned only: Weir's
//! Top-N operators compute it); user-defined aggregate functions registered from Rust
//! ([`AggregateFunction`]); array literals (`ARRAY[...]`, [`ArrayLiteralPlanner`]); table functions ([`TableFunction`], with the built-in `UNNEST`).

mod aggregate;
mod array;
mod average;
mod table;
mod text;

pub use aggregate::{AggregateFunction, UserAggregate};
pub use array::ArrayLiteralPlanner;
pub use table::{
    TableFunction, TableRows, Unnest, UserTableFunction, UNNEST, UNNEST_WITH_ORDINALITY,
};

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit};
use datafusion_common::{exec_err, not_impl_err, Result as DfResult, ScalarValue};
use datafusion_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion_expr::{
    AggregateUDF, ColumnarValue, PartitionEvaluator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, TypeSignature, Volatility, WindowUDF, WindowUDFImpl,
};

const TIMESTAMP_MS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

/// Scalar, aggregate and window functions by lower-case name (aliases included).
#[derive(Debug, Clone)]
pub struct Functions {
    /// Scalar functions.
    pub scalars: HashMap<String, Arc<ScalarUDF>>,
    /// Aggregate functions.
    pub aggregates: HashMap<String, Arc<AggregateUDF>>,
    /// Window functions (`OVER (...)`).
    pub windows: HashMap<String, Arc<WindowUDF>>,
    /// Table functions (`LATERAL TABLE(f(...))`).
    pub tables: HashMap<String, UserTableFunction>,
}

impl Default for Functions {
    fn default() -> Self {
        let mut scalars = HashMap::new();
        let flink: Vec<Arc<ScalarUDF>> = vec![
            Arc::new(ScalarUDF::from(Proctime::default())),
            Arc::new(ScalarUDF::from(ToTimestampLtz::default())),
            Arc::new(ScalarUDF::from(DateFormat::default())),
            Arc::new(ScalarUDF::from(CurrentWatermark::default())),
            Arc::new(ScalarUDF::from(Mod::default())),
            Arc::new(ScalarUDF::from(Hour::default())),
            Arc::new(ScalarUDF::from(text::RegexpExtract::default())),
            Arc::new(ScalarUDF::from(text::SplitIndex::default())),
        ];
        let group_windows = crate::group_window::functions().into_iter().map(Arc::new);
        for f in datafusion_functions::all_default_functions()
            .into_iter()
            .chain(flink)
            .chain(group_windows)
        {
            for name in std::iter::once(f.name()).chain(f.aliases().iter().map(String::as_str)) {
                scalars.insert(name.to_ascii_lowercase(), f.clone());
            }
        }
        let mut aggregates = HashMap::new();
        for f in datafusion_functions_aggregate::all_default_aggregate_functions() {
            let f = match f.name() {
                "avg" => Arc::new(AggregateUDF::from(average::FlinkAvg::new(f))),
                _ => f,
            };
            for name in std::iter::once(f.name()).chain(f.aliases().iter().map(String::as_str)) {
                aggregates.insert(name.to_ascii_lowercase(), f.clone());
            }
        }
        let windows = ["row_number", "rank", "dense_rank"]
            .into_iter()
            .map(|name| {
                let f = Arc::new(WindowUDF::from(RankingFunction::new(name)));
                (name.to_string(), f)
            })
            .collect();
        let tables = [Unnest::new(false), Unnest::new(true)]
            .into_iter()
            .map(|u| (u.name().to_string(), UserTableFunction(Arc::new(u))))
            .collect();
        Functions {
            scalars,
            aggregates,
            windows,
            tables,
        }
    }
}

impl Functions {
    /// Registers a scalar UDF under its name.
    pub fn register_scalar(&mut self, f: ScalarUDF) {
        self.scalars
            .insert(f.name().to_ascii_lowercase(), Arc::new(f));
    }

    /// Registers a table function under its name.
    pub fn register_table(&mut self, f: impl TableFunction) {
        let name = f.name().to_ascii_lowercase();
        self.tables.insert(name, UserTableFunction(Arc::new(f)));
    }

    /// Registers a user-defined aggregate function under its name.
    pub fn register_aggregate(&mut self, f: impl AggregateFunction) {
        let udaf = AggregateUDF::new_from_impl(UserAggregate::new(f));
        self.aggregates
            .insert(udaf.name().to_ascii_lowercase(), Arc::new(udaf));
    }
}

thread_local! {
    /// The watermark of the operator evaluating expressions on this thread.
    static CURRENT_WATERMARK_MS: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Sets what `CURRENT_WATERMARK(...)` returns on this thread (each task runs on its own).
pub fn set_current_watermark(watermark: Option<i64>) {
    CURRENT_WATERMARK_MS.with(|w| w.set(watermark));
}

/// `PROCTIME()`: the wall-clock time, a processing-time attribute.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Proctime {
    signature: Signature,
}

impl Default for Proctime {
    fn default() -> Self {
        Proctime {
            signature: Signature::exact(vec![], Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for Proctime {
    fn name(&self) -> &str {
        "proctime"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(TIMESTAMP_MS)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let now = weir_runtime::operator::now_ms();
        Ok(ColumnarValue::Array(Arc::new(
            TimestampMillisecondArray::from(vec![now; args.number_rows]),
        )))
    }
}

/// `ROW_NUMBER()`, `RANK()` and `DENSE_RANK()`: the position of a row in its partition
/// (`BIGINT NOT NULL`). Planned only: Weir's Top-N and OVER aggregation operators number the
/// rows themselves.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RankingFunction {
    name: &'static str,
    signature: Signature,
}

impl RankingFunction {
    fn new(name: &'static str) -> Self {
        RankingFunction {
            name,
            signature: Signature::exact(vec![], Volatility::Immutable),
        }
    }
}

impl WindowUDFImpl for RankingFunction {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> DfResult<Box<dyn PartitionEvaluator>> {
        not_impl_err!(
            "{}() is computed by Weir's Top-N and OVER operators, not evaluated",
            self.name.to_ascii_uppercase()
        )
    }
    fn field(&self, args: WindowUDFFieldArgs) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(args.name(), DataType::Int64, false)))
    }
}

/// `TO_TIMESTAMP_LTZ(epoch, precision)`: seconds (precision 0) or milliseconds (3) since the
/// epoch as a timestamp.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToTimestampLtz {
    signature: Signature,
}

impl Default for ToTimestampLtz {
    fn default() -> Self {
        ToTimestampLtz {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Int64, DataType::Int64]),
                    TypeSignature::Exact(vec![DataType::Int64]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for ToTimestampLtz {
    fn name(&self) -> &str {
        "to_timestamp_ltz"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(TIMESTAMP_MS)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let epoch = args.args[0].to_array(n)?;
        let precision = match args.args.get(1) {
            Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(p)))) => *p,
            None => 3,
            Some(_) => return exec_err!("TO_TIMESTAMP_LTZ: the precision must be a constant"),
        };
        let factor = match precision {
            0 => 1000,
            3 => 1,
            p => return exec_err!("TO_TIMESTAMP_LTZ: precision must be 0 or 3, not {p}"),
        };
        let epoch = epoch.as_primitive::<Int64Type>();
        let millis: TimestampMillisecondArray =
            epoch.iter().map(|v| v.map(|v| v * factor)).collect();
        Ok(ColumnarValue::Array(Arc::new(millis)))
    }
}

/// `DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss')`: a timestamp as text in a Java date pattern.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DateFormat {
    signature: Signature,
}

impl Default for DateFormat {
    fn default() -> Self {
        DateFormat {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![TIMESTAMP_MS, DataType::Utf8]),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

/// A Java `SimpleDateFormat` pattern as a chrono format string.
fn chrono_pattern(java: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = java.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|x| **x == c).count();
        let spec = match (c, run) {
            ('y', 2) => "%y".to_string(),
            ('y', _) => "%Y".to_string(),
            ('M', 1) => "%-m".to_string(),
            ('M', 2) => "%m".to_string(),
            ('M', 3) => "%b".to_string(),
            ('M', _) => "%B".to_string(),
            ('d', 1) => "%-d".to_string(),
            ('d', _) => "%d".to_string(),
            ('H', 1) => "%-H".to_string(),
            ('H', _) => "%H".to_string(),
            ('m', 1) => "%-M".to_string(),
            ('m', _) => "%M".to_string(),
            ('s', 1) => "%-S".to_string(),
            ('s', _) => "%S".to_string(),
            ('S', n) => format!("%{}f", n.min(9)),
            ('E', _) => "%a".to_string(),
            ('a', _) => "%p".to_string(),
            ('%', _) => "%%".repeat(run),
            (c, n) => c.to_string().repeat(n),
        };
        out.push_str(&spec);
        i += run;
    }
    out
}

impl ScalarUDFImpl for DateFormat {
    fn name(&self) -> &str {
        "date_format"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let values = args.args[0].to_array(n)?;
        let values: ArrayRef = cast(&values, &TIMESTAMP_MS)?;
        let millis = values.as_primitive::<arrow::datatypes::TimestampMillisecondType>();
        let patterns = args.args[1].to_array(n)?;
        let patterns = patterns.as_string::<i32>();
        let out: StringArray = (0..n)
            .map(|i| {
                if millis.is_null(i) || patterns.is_null(i) {
                    return None;
                }
                let t = chrono::DateTime::from_timestamp_millis(millis.value(i))?;
                Some(t.format(&chrono_pattern(patterns.value(i))).to_string())
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// `HOUR(ts)`: the hour of the day (0 to 23) of a timestamp.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Hour {
    signature: Signature,
}

impl Default for Hour {
    fn default() -> Self {
        Hour {
            signature: Signature::exact(vec![TIMESTAMP_MS], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Hour {
    fn name(&self) -> &str {
        "hour"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        const MS_PER_HOUR: i64 = 3_600_000;
        let values = args.args[0].to_array(args.number_rows)?;
        let millis = values.as_primitive::<arrow::datatypes::TimestampMillisecondType>();
        let hours: Int64Array = millis
            .iter()
            .map(|ms| ms.map(|ms| ms.div_euclid(MS_PER_HOUR).rem_euclid(24)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(hours)))
    }
}

/// `CURRENT_WATERMARK(rowtime)`: the current watermark of the operator, NULL before the first.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentWatermark {
    signature: Signature,
}

impl Default for CurrentWatermark {
    fn default() -> Self {
        CurrentWatermark {
            signature: Signature::any(1, Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for CurrentWatermark {
    fn name(&self) -> &str {
        "current_watermark"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(TIMESTAMP_MS)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let watermark = CURRENT_WATERMARK_MS
            .with(Cell::get)
            .filter(|w| *w != i64::MIN);
        let values = Int64Array::from(vec![watermark; args.number_rows]);
        Ok(ColumnarValue::Array(cast(&values, &TIMESTAMP_MS)?))
    }
}

/// `MOD(a, b)`: the remainder of integer division (NULL when `b` is 0).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Mod {
    signature: Signature,
}

impl Default for Mod {
    fn default() -> Self {
        Mod {
            signature: Signature::uniform(2, vec![DataType::Int64], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Mod {
    fn name(&self) -> &str {
        "mod"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let (a, b) = (args.args[0].to_array(n)?, args.args[1].to_array(n)?);
        let (a, b) = (a.as_primitive::<Int64Type>(), b.as_primitive::<Int64Type>());
        let out: Int64Array = a
            .iter()
            .zip(b.iter())
            .map(|(a, b)| match (a, b) {
                (Some(a), Some(b)) if b != 0 => Some(a % b),
                _ => None,
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_patterns() {
        assert_eq!(chrono_pattern("yyyy-MM-dd HH:mm:ss"), "%Y-%m-%d %H:%M:%S");
        assert_eq!(chrono_pattern("HH:mm:ss.SSS"), "%H:%M:%S.%3f");
    }

    #[test]
    fn registry_has_flink_and_datafusion_functions() {
        let f = Functions::default();
        for name in [
            "upper",
            "date_trunc",
            "date_format",
            "to_timestamp_ltz",
            "proctime",
            "hour",
            "regexp_extract",
            "split_index",
        ] {
            assert!(f.scalars.contains_key(name), "{name}");
        }
        assert!(f.aggregates.contains_key("count"));
    }
}
