//! Flink's `AVG`: over an integer column the average has the column's type (the sum divided
//! by the count, truncated toward zero: `AVG` of 10 and 11 is 10), where DataFusion's
//! averages every number as a DOUBLE. Other types average as DataFusion types them. Weir
//! runs aggregates with its own accumulators; this only gives the planner Flink's types.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{plan_err, Result as DfResult};
use datafusion_expr::function::AccumulatorArgs;
use datafusion_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};

/// `AVG` typed as Flink types it, over DataFusion's `avg`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FlinkAvg {
    inner: Arc<AggregateUDF>,
    signature: Signature,
}

impl FlinkAvg {
    /// Flink's typing over DataFusion's `avg` (`inner`).
    pub fn new(inner: Arc<AggregateUDF>) -> Self {
        FlinkAvg {
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for FlinkAvg {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Integers, decimals and durations stay as they are, other numbers become DOUBLEs.
    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        match arg_types {
            [t] if t.is_integer()
                || matches!(t, DataType::Decimal128(..) | DataType::Duration(_)) =>
            {
                Ok(vec![t.clone()])
            }
            [t] if t.is_floating() || t.is_null() => Ok(vec![DataType::Float64]),
            [t] => plan_err!("AVG needs a numeric argument, not {t}"),
            _ => plan_err!("AVG takes one argument, not {}", arg_types.len()),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        match arg_types {
            [t] if t.is_integer() => Ok(t.clone()),
            _ => self.inner.return_type(arg_types),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        self.inner.inner().accumulator(args)
    }
}
