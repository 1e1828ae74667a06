//! Logical expressions compiled to DataFusion's physical expressions and evaluated on
//! record batches.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};
use datafusion_common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion_common::DFSchema;
use datafusion_expr::execution_props::ExecutionProps;
use datafusion_expr::expr::ScalarFunction;
use datafusion_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion_expr::Expr;
use datafusion_physical_expr::{create_physical_expr, PhysicalExpr};

use crate::error::Result;

/// A compiled expression.
pub type Compiled = Arc<dyn PhysicalExpr>;

/// Compiles `expr` over the columns of `schema`.
pub fn compile(expr: &Expr, schema: &DFSchema) -> Result<Compiled> {
    Ok(create_physical_expr(
        &rewrite_functions(expr.clone(), schema)?,
        schema,
        &ExecutionProps::new(),
        &Default::default(),
    )?)
}

/// Replaces the calls of functions that exist only to be rewritten by the planner (such as
/// `COALESCE`, which becomes a `CASE`) by what they stand for. Only the functions' own
/// rewrites run, not DataFusion's other simplifications, which would fold calls that must be
/// evaluated per row (`PROCTIME()`, `CURRENT_WATERMARK`).
fn rewrite_functions(expr: Expr, schema: &DFSchema) -> Result<Expr> {
    let context = SimplifyContext::builder()
        .with_schema(Arc::new(schema.clone()))
        .build();
    let rewritten = expr.transform_up(|e| {
        let Expr::ScalarFunction(ScalarFunction { func, args }) = e else {
            return Ok(Transformed::no(e));
        };
        Ok(match func.simplify(args, &context)? {
            ExprSimplifyResult::Simplified(new) => Transformed::yes(new),
            ExprSimplifyResult::Original(args) => {
                Transformed::no(Expr::ScalarFunction(ScalarFunction { func, args }))
            }
        })
    });
    Ok(rewritten.data()?)
}

/// Compiles each of `exprs` over the columns of `schema`.
pub fn compile_all(exprs: &[Expr], schema: &DFSchema) -> Result<Vec<Compiled>> {
    exprs.iter().map(|e| compile(e, schema)).collect()
}

/// Evaluates `expr` on every row of `batch`.
pub fn evaluate(expr: &Compiled, batch: &RecordBatch) -> Result<ArrayRef> {
    Ok(expr.evaluate(batch)?.into_array(batch.num_rows())?)
}

/// Evaluates a predicate; NULL counts as false.
pub fn evaluate_filter(expr: &Compiled, batch: &RecordBatch) -> Result<BooleanArray> {
    let values = evaluate(expr, batch)?;
    let values = values
        .as_any()
        .downcast_ref::<BooleanArray>()
        .cloned()
        .unwrap_or_else(|| BooleanArray::from(vec![false; batch.num_rows()]));
    Ok(match values.nulls() {
        Some(_) => arrow::compute::prep_null_mask_filter(&values),
        None => values,
    })
}

/// Evaluates constant expressions (one per row, as in `VALUES`) into a column of `data_type`.
pub fn evaluate_constant(values: &[&Expr], data_type: &DataType) -> Result<ArrayRef> {
    let empty = DFSchema::empty();
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        Vec::new(),
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    let arrays = values
        .iter()
        .map(|e| {
            let array = evaluate(&compile(e, &empty)?, &one_row)?;
            Ok(cast(&array, data_type)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&dyn arrow::array::Array> = arrays.iter().map(|a| a.as_ref()).collect();
    if refs.is_empty() {
        return Ok(arrow::array::new_empty_array(data_type));
    }
    Ok(arrow::compute::concat(&refs)?)
}
