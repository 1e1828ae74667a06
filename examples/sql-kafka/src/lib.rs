//! Flink SQL jobs over Kafka from the seeds, run by Weir (see `README.md` and `run.sh`):
//!
//! - the spend report (`sql/spend_report.sql`): hourly spend per account from the
//!   `transactions` topic (CSV), kept up to date in the `spend_report` upsert-kafka topic;
//! - payments per province (`src/bin/payments_by_province.rs` with `sql/payments_by_province.sql`):
//!   the payment amounts of the `payment_msg` topic (JSON) summed per province, whose name a
//!   Rust scalar UDF, [`province_id_to_name`], looks up from the province id.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, StringArray};
use arrow::datatypes::DataType;
use datafusion_common::DataFusionError;
use datafusion_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};

/// The provinces, by id (the seed's tuple).
pub const PROVINCES: [&str; 7] = [
    "Beijing",
    "Shanghai",
    "Hangzhou",
    "Shenzhen",
    "Jiangxi",
    "Chongqing",
    "Xizang",
];

/// The spend report job.
pub const SPEND_REPORT_SQL: &str = include_str!("../sql/spend_report.sql");

/// The payments-per-province job (it needs [`province_id_to_name`]).
pub const PAYMENTS_BY_PROVINCE_SQL: &str = include_str!("../sql/payments_by_province.sql");

/// The scalar function `province_id_to_name(INT) -> STRING`: the name of a province id, NULL
/// for an unknown id. Register it with
/// `env.functions_mut().register_scalar(province_id_to_name())`.
pub fn province_id_to_name() -> ScalarUDF {
    create_udf(
        "province_id_to_name",
        vec![DataType::Int32],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let ids = match &args[0] {
                ColumnarValue::Array(array) => array.clone(),
                ColumnarValue::Scalar(scalar) => scalar.to_array()?,
            };
            let ids = ids.as_any().downcast_ref::<Int32Array>().ok_or_else(|| {
                DataFusionError::Execution("province_id_to_name expects an INT".into())
            })?;
            let names: StringArray = ids
                .iter()
                .map(|id| {
                    id.and_then(|id| usize::try_from(id).ok())
                        .and_then(|id| PROVINCES.get(id).copied())
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(names) as ArrayRef))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_have_names_and_others_are_null() {
        let udf = province_id_to_name();
        let ids: ArrayRef = Arc::new(Int32Array::from(vec![
            Some(0),
            Some(6),
            Some(7),
            None,
            Some(-1),
        ]));
        let args = datafusion_expr::ScalarFunctionArgs {
            args: vec![ColumnarValue::Array(ids)],
            arg_fields: vec![Arc::new(arrow::datatypes::Field::new(
                "id",
                DataType::Int32,
                true,
            ))],
            number_rows: 5,
            return_field: Arc::new(arrow::datatypes::Field::new("p", DataType::Utf8, true)),
            config_options: Default::default(),
        };
        let ColumnarValue::Array(names) = udf.invoke_with_args(args).unwrap() else {
            panic!("an array");
        };
        let names = names.as_any().downcast_ref::<StringArray>().unwrap();
        let got: Vec<Option<&str>> = names.iter().collect();
        assert_eq!(got, [Some("Beijing"), Some("Xizang"), None, None, None]);
    }
}
