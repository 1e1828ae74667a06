//! User-defined aggregate functions (UDAF) registered from Rust, with Flink's contract: an
//! accumulator created per group, `accumulate` per input row, `retract` per retracted row
//! (needed over updating inputs), `merge` of accumulators (two-phase aggregation, session
//! windows) and `get_value` for the result.
//!
//! Accumulators live in Weir's keyed state and go into checkpoints and savepoints, so their
//! type must be serializable (serde); [`UserAggregate`] keeps them encoded.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{not_impl_err, Result as DfResult, ScalarValue};
use datafusion_expr::function::AccumulatorArgs;
use datafusion_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};
use serde::de::DeserializeOwned;
use serde::Serialize;
use weir_core::{Result, WeirError};

/// An aggregate function written in Rust: what a Flink `AggregateFunction` is in Java.
///
/// ```
/// use arrow::datatypes::DataType;
/// use datafusion_common::{Result, ScalarValue};
/// use datafusion_expr::{Signature, Volatility};
/// use weir_sql::functions::AggregateFunction;
///
/// /// `LONGEST(s)`: the length of the longest string.
/// struct Longest(Signature);
///
/// impl AggregateFunction for Longest {
///     type Accumulator = i64;
///     fn name(&self) -> &str { "longest" }
///     fn signature(&self) -> &Signature { &self.0 }
///     fn return_type(&self, _: &[DataType]) -> Result<DataType> { Ok(DataType::Int64) }
///     fn create_accumulator(&self) -> i64 { 0 }
///     fn accumulate(&self, acc: &mut i64, args: &[ScalarValue]) -> Result<()> {
///         if let ScalarValue::Utf8(Some(s)) = &args[0] {
///             *acc = (*acc).max(s.len() as i64);
///         }
///         Ok(())
///     }
///     fn merge(&self, acc: &mut i64, other: i64) -> Result<()> {
///         *acc = (*acc).max(other);
///         Ok(())
///     }
///     fn get_value(&self, acc: &i64) -> Result<ScalarValue> { Ok(ScalarValue::Int64(Some(*acc))) }
/// }
///
/// let mut env = weir_sql::TableEnvironment::new(weir_core::config::Configuration::new());
/// let longest = Longest(Signature::exact(vec![DataType::Utf8], Volatility::Immutable));
/// env.functions_mut().register_aggregate(longest);
/// ```
pub trait AggregateFunction: Send + Sync + 'static {
    /// The state of one group (kept in keyed state, so serializable).
    type Accumulator: Serialize + DeserializeOwned;

    /// The name SQL calls the function by (matched without regard to case).
    fn name(&self) -> &str;

    /// The argument types the function accepts (arguments are coerced to them).
    fn signature(&self) -> &Signature;

    /// The result type for arguments of `arg_types`.
    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType>;

    /// A new, empty accumulator.
    fn create_accumulator(&self) -> Self::Accumulator;

    /// Adds one input row's arguments (NULL arguments included, as in Flink).
    fn accumulate(&self, acc: &mut Self::Accumulator, args: &[ScalarValue]) -> DfResult<()>;

    /// Whether [`retract`](Self::retract) is implemented; a function without it cannot
    /// aggregate an updating input (an aggregate or outer join result).
    fn supports_retract(&self) -> bool {
        false
    }

    /// Removes one earlier accumulated row's arguments.
    fn retract(&self, _acc: &mut Self::Accumulator, _args: &[ScalarValue]) -> DfResult<()> {
        not_impl_err!("aggregate function {} has no retract method", self.name())
    }

    /// Merges `other` into `acc`, as if `acc` had also taken `other`'s rows.
    fn merge(&self, acc: &mut Self::Accumulator, other: Self::Accumulator) -> DfResult<()>;

    /// The result for the rows in `acc`.
    fn get_value(&self, acc: &Self::Accumulator) -> DfResult<ScalarValue>;
}

/// An [`AggregateFunction`] with its accumulators encoded as bytes, so that aggregation state
/// of every function has one type.
trait EncodedAggregate: Send + Sync {
    fn name(&self) -> &str;
    fn signature(&self) -> &Signature;
    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType>;
    fn supports_retract(&self) -> bool;
    fn create(&self) -> Result<Vec<u8>>;
    fn update(&self, acc: &mut Vec<u8>, args: &[ScalarValue], retract: bool) -> Result<()>;
    fn merge(&self, acc: &mut Vec<u8>, other: &[u8]) -> Result<()>;
    fn value(&self, acc: &[u8]) -> Result<ScalarValue>;
}

/// Adapts a typed [`AggregateFunction`] to [`EncodedAggregate`].
struct Encoded<F>(F);

impl<F: AggregateFunction> Encoded<F> {
    fn decode(&self, acc: &[u8]) -> Result<F::Accumulator> {
        weir_state::decode(acc, self.0.name())
    }

    /// Errors of the function, naming it.
    fn failed(&self, e: datafusion_common::DataFusionError) -> WeirError {
        WeirError::Other(format!("aggregate function {}: {e}", self.0.name()))
    }
}

impl<F: AggregateFunction> EncodedAggregate for Encoded<F> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn signature(&self) -> &Signature {
        self.0.signature()
    }
    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        self.0.return_type(arg_types)
    }
    fn supports_retract(&self) -> bool {
        self.0.supports_retract()
    }
    fn create(&self) -> Result<Vec<u8>> {
        weir_state::encode(&self.0.create_accumulator())
    }
    fn update(&self, acc: &mut Vec<u8>, args: &[ScalarValue], retract: bool) -> Result<()> {
        let mut typed = self.decode(acc)?;
        let done = if retract {
            self.0.retract(&mut typed, args)
        } else {
            self.0.accumulate(&mut typed, args)
        };
        done.map_err(|e| self.failed(e))?;
        *acc = weir_state::encode(&typed)?;
        Ok(())
    }
    fn merge(&self, acc: &mut Vec<u8>, other: &[u8]) -> Result<()> {
        let mut typed = self.decode(acc)?;
        let other = self.decode(other)?;
        self.0
            .merge(&mut typed, other)
            .map_err(|e| self.failed(e))?;
        *acc = weir_state::encode(&typed)?;
        Ok(())
    }
    fn value(&self, acc: &[u8]) -> Result<ScalarValue> {
        let typed = self.decode(acc)?;
        self.0.get_value(&typed).map_err(|e| self.failed(e))
    }
}

/// A registered user-defined aggregate function: planned by DataFusion as an
/// [`AggregateUDF`], computed by Weir's aggregation operators over encoded accumulators.
#[derive(Clone)]
pub struct UserAggregate {
    function: Arc<dyn EncodedAggregate>,
}

impl UserAggregate {
    /// Wraps `function`.
    pub fn new(function: impl AggregateFunction) -> Self {
        UserAggregate {
            function: Arc::new(Encoded(function)),
        }
    }

    /// The user aggregate behind `udf`, if it is one.
    pub fn of(udf: &AggregateUDF) -> Option<&UserAggregate> {
        let inner: &dyn Any = udf.inner().as_ref();
        inner.downcast_ref::<UserAggregate>()
    }

    /// The function's name.
    pub fn function_name(&self) -> &str {
        self.function.name()
    }

    /// Whether the function can retract rows.
    pub fn supports_retract(&self) -> bool {
        self.function.supports_retract()
    }

    /// Adds (or with `retract` removes) one row's arguments to the accumulator `acc`,
    /// creating it first if there is none.
    pub fn update(
        &self,
        acc: &mut Option<Vec<u8>>,
        args: &[ScalarValue],
        retract: bool,
    ) -> Result<()> {
        let acc = match acc {
            Some(acc) => acc,
            None => acc.insert(self.function.create()?),
        };
        self.function.update(acc, args, retract)
    }

    /// Merges the accumulator `other` into `acc`.
    pub fn merge(&self, acc: &mut Option<Vec<u8>>, other: Option<Vec<u8>>) -> Result<()> {
        match (acc.as_mut(), other) {
            (_, None) => Ok(()),
            (None, other) => {
                *acc = other;
                Ok(())
            }
            (Some(acc), Some(other)) => self.function.merge(acc, &other),
        }
    }

    /// The result of the accumulator `acc` (of an empty one when there is none).
    pub fn value(&self, acc: Option<&[u8]>) -> Result<ScalarValue> {
        match acc {
            Some(acc) => self.function.value(acc),
            None => self.function.value(&self.function.create()?),
        }
    }
}

impl fmt::Debug for UserAggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserAggregate({})", self.function.name())
    }
}

impl PartialEq for UserAggregate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.function, &other.function)
    }
}

impl Eq for UserAggregate {}

impl Hash for UserAggregate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.function.name().hash(state);
    }
}

impl AggregateUDFImpl for UserAggregate {
    fn name(&self) -> &str {
        self.function.name()
    }
    fn signature(&self) -> &Signature {
        self.function.signature()
    }
    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        self.function.return_type(arg_types)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        not_impl_err!(
            "{} is computed by Weir's aggregation operators, not by DataFusion",
            self.function.name()
        )
    }
}
