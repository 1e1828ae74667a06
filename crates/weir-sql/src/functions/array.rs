//! Array literals: `ARRAY[a, b, ...]` as the function `make_array`, planned by
//! [`ArrayLiteralPlanner`].

use std::sync::Arc;

use arrow::array::{ArrayRef, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::compute::interleave;
use arrow::datatypes::{DataType, Field};
use datafusion_common::{plan_err, DFSchema, Result as DfResult};
use datafusion_expr::expr::ScalarFunction;
use datafusion_expr::planner::{ExprPlanner, PlannerResult};
use datafusion_expr::type_coercion::binary::comparison_coercion;
use datafusion_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// `make_array(a, b, ...)`: an array of its arguments (of one common type).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MakeArray {
    signature: Signature,
}

impl Default for MakeArray {
    fn default() -> Self {
        MakeArray {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for MakeArray {
    fn name(&self) -> &str {
        "make_array"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        let Some(first) = arg_types.first() else {
            return plan_err!("ARRAY[] needs at least one element");
        };
        let common = arg_types[1..].iter().try_fold(first.clone(), |common, t| {
            comparison_coercion(&common, t)
                .ok_or_else(|| format!("ARRAY elements of types {common} and {t} do not mix"))
        });
        match common {
            Ok(common) => Ok(vec![common; arg_types.len()]),
            Err(message) => plan_err!("{message}"),
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::new_list(arg_types[0].clone(), true))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let columns: Vec<ArrayRef> = (args.args.iter())
            .map(|a| a.to_array(rows))
            .collect::<DfResult<_>>()?;
        let width = columns.len();
        // Row by row, each argument's value.
        let picks: Vec<(usize, usize)> = (0..rows)
            .flat_map(|row| (0..width).map(move |column| (column, row)))
            .collect();
        let refs: Vec<&dyn arrow::array::Array> = columns.iter().map(|c| c.as_ref()).collect();
        let values = interleave(&refs, &picks)?;
        let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
        let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(width, rows));
        let list = ListArray::try_new(field, offsets, values, None)?;
        Ok(ColumnarValue::Array(Arc::new(list)))
    }
}

/// Plans `ARRAY[...]` literals as calls of [`MakeArray`].
#[derive(Debug)]
pub struct ArrayLiteralPlanner(pub Arc<ScalarUDF>);

impl Default for ArrayLiteralPlanner {
    fn default() -> Self {
        ArrayLiteralPlanner(Arc::new(ScalarUDF::from(MakeArray::default())))
    }
}

impl ExprPlanner for ArrayLiteralPlanner {
    fn plan_array_literal(
        &self,
        exprs: Vec<Expr>,
        _schema: &DFSchema,
    ) -> DfResult<PlannerResult<Vec<Expr>>> {
        let call = ScalarFunction::new_udf(self.0.clone(), exprs);
        Ok(PlannerResult::Planned(Expr::ScalarFunction(call)))
    }
}
