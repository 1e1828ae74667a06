//! Table functions (UDTF): functions that turn each input row into zero or more rows, joined
//! to it with `LATERAL TABLE(f(...))` (Flink's Correlate), registered from Rust as a
//! [`TableFunction`]; and the built-in `UNNEST` of arrays and maps.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion_common::{plan_err, Result as DfResult};
use datafusion_expr::{Signature, Volatility};

/// What a table function produced for a batch of input rows: its rows, in the order of the
/// input rows they belong to.
#[derive(Debug, Clone)]
pub struct TableRows {
    /// For each produced row, the input row it belongs to (ascending).
    pub input_rows: UInt32Array,
    /// The produced rows' columns, of the function's output fields.
    pub columns: Vec<ArrayRef>,
}

/// A table function written in Rust: what a Flink `TableFunction` is in Java, vectorized over
/// a batch of input rows.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{Array, ArrayRef, AsArray, StringArray, UInt32Array};
/// use arrow::datatypes::{DataType, Field};
/// use datafusion_common::Result;
/// use datafusion_expr::{Signature, Volatility};
/// use weir_sql::functions::{TableFunction, TableRows};
///
/// /// `SPLIT(s)`: a row per space-separated word of `s`.
/// struct Split(Signature);
///
/// impl TableFunction for Split {
///     fn name(&self) -> &str { "split" }
///     fn signature(&self) -> &Signature { &self.0 }
///     fn output_fields(&self, _: &[DataType]) -> Result<Vec<Field>> {
///         Ok(vec![Field::new("word", DataType::Utf8, true)])
///     }
///     fn eval(&self, args: &[ArrayRef]) -> Result<TableRows> {
///         let (mut rows, mut words) = (Vec::new(), Vec::new());
///         let lines = args[0].as_string::<i32>();
///         for (row, line) in lines.iter().enumerate() {
///             for word in line.unwrap_or_default().split_whitespace() {
///                 rows.push(row as u32);
///                 words.push(word.to_string());
///             }
///         }
///         Ok(TableRows {
///             input_rows: UInt32Array::from(rows),
///             columns: vec![Arc::new(StringArray::from(words))],
///         })
///     }
/// }
///
/// let mut env = weir_sql::TableEnvironment::new(weir_core::config::Configuration::new());
/// let split = Split(Signature::exact(vec![DataType::Utf8], Volatility::Immutable));
/// env.functions_mut().register_table(split);
/// ```
pub trait TableFunction: Send + Sync + 'static {
    /// The name SQL calls the function by (matched without regard to case).
    fn name(&self) -> &str;

    /// The argument types the function accepts.
    fn signature(&self) -> &Signature;

    /// The output columns for arguments of `arg_types` (`AS T(a, b)` may rename them).
    fn output_fields(&self, arg_types: &[DataType]) -> DfResult<Vec<Field>>;

    /// The rows of all input rows of a batch, whose argument columns are `args`.
    fn eval(&self, args: &[ArrayRef]) -> DfResult<TableRows>;

    /// The name `EXPLAIN` shows for the function.
    fn display_name(&self) -> &str {
        self.name()
    }
}

/// A registered table function.
#[derive(Clone)]
pub struct UserTableFunction(pub Arc<dyn TableFunction>);

impl fmt::Debug for UserTableFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TableFunction({})", self.0.name())
    }
}

/// The name the query rewrite gives `UNNEST(...)` in a `FROM` clause.
pub const UNNEST: &str = "weir_unnest";
/// The name the query rewrite gives `UNNEST(...) WITH ORDINALITY`.
pub const UNNEST_WITH_ORDINALITY: &str = "weir_unnest_ordinality";

/// `UNNEST(a)`: a row per element of an array (the fields of a row element as columns), or
/// per entry (key, value) of a map; with `ordinality`, each element's position (from 1) too.
pub struct Unnest {
    signature: Signature,
    ordinality: bool,
}

impl Unnest {
    /// `UNNEST`, with or without `WITH ORDINALITY`.
    pub fn new(ordinality: bool) -> Self {
        Unnest {
            signature: Signature::any(1, Volatility::Immutable),
            ordinality,
        }
    }
}

/// The element fields of a list or map type, as unnested columns.
fn element_fields(data_type: &DataType) -> DfResult<Vec<FieldRef>> {
    let element = match data_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f,
        DataType::Map(entries, _) => entries,
        other => return plan_err!("UNNEST needs an ARRAY or MAP argument, not {other}"),
    };
    Ok(match element.data_type() {
        DataType::Struct(fields) => fields.iter().cloned().collect(),
        _ => vec![Arc::new(Field::new(
            "f0",
            element.data_type().clone(),
            true,
        ))],
    })
}

impl TableFunction for Unnest {
    fn name(&self) -> &str {
        if self.ordinality {
            UNNEST_WITH_ORDINALITY
        } else {
            UNNEST
        }
    }
    fn display_name(&self) -> &str {
        "$UNNEST_ROWS$1"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn output_fields(&self, arg_types: &[DataType]) -> DfResult<Vec<Field>> {
        let mut fields: Vec<Field> = element_fields(&arg_types[0])?
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        if self.ordinality {
            fields.push(Field::new("ordinality", DataType::Int32, false));
        }
        Ok(fields)
    }
    fn eval(&self, args: &[ArrayRef]) -> DfResult<TableRows> {
        let array = &args[0];
        // Offsets into the elements, and the elements.
        let (offsets, elements): (Vec<usize>, ArrayRef) = match array.data_type() {
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                let offsets = list.value_offsets().iter().map(|o| *o as usize);
                (offsets.collect(), list.values().clone())
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                let offsets = list.value_offsets().iter().map(|o| *o as usize);
                (offsets.collect(), list.values().clone())
            }
            DataType::Map(_, _) => {
                let map = array.as_map();
                let offsets = map.value_offsets().iter().map(|o| *o as usize);
                (offsets.collect(), Arc::new(map.entries().clone()))
            }
            other => return plan_err!("UNNEST needs an ARRAY or MAP argument, not {other}"),
        };
        let (mut input_rows, mut positions, mut ordinals) = (Vec::new(), Vec::new(), Vec::new());
        for row in 0..array.len() {
            if array.is_null(row) {
                continue;
            }
            for (n, position) in (offsets[row]..offsets[row + 1]).enumerate() {
                input_rows.push(row as u32);
                positions.push(position as u32);
                ordinals.push(n as i32 + 1);
            }
        }
        let picked = take(elements.as_ref(), &UInt32Array::from(positions), None)?;
        let mut columns: Vec<ArrayRef> = match picked.data_type() {
            DataType::Struct(_) => picked.as_struct().columns().to_vec(),
            _ => vec![picked],
        };
        if self.ordinality {
            columns.push(Arc::new(Int32Array::from(ordinals)));
        }
        Ok(TableRows {
            input_rows: UInt32Array::from(input_rows),
            columns,
        })
    }
}
