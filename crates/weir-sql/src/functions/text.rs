//! Flink's string functions that DataFusion lacks: `REGEXP_EXTRACT` and `SPLIT_INDEX`.

use std::sync::Arc;

use arrow::array::{Array, AsArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result as DfResult, ScalarValue};
use datafusion_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use regex::Regex;

/// The string argument `i` as a column of `n` rows.
fn strings(args: &ScalarFunctionArgs, i: usize) -> DfResult<StringArray> {
    let array = cast(&args.args[i].to_array(args.number_rows)?, &DataType::Utf8)?;
    Ok(array.as_string::<i32>().clone())
}

/// The integer argument `i` (a constant, as Flink's plans have it), or `None` for NULL.
fn constant_int(args: &ScalarFunctionArgs, i: usize, function: &str) -> DfResult<Option<i64>> {
    match &args.args[i] {
        ColumnarValue::Scalar(scalar) => match scalar.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(v) => Ok(v),
            _ => exec_err!("{function}: the index must be a whole number"),
        },
        ColumnarValue::Array(_) => exec_err!("{function}: the index must be a constant"),
    }
}

/// `REGEXP_EXTRACT(string, regex [, index])`: the text of group `index` (0: the whole match;
/// default 0) of the first match of `regex` in `string`; NULL when nothing matches, the group
/// did not take part, or an argument is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct RegexpExtract {
    signature: Signature,
}

impl Default for RegexpExtract {
    fn default() -> Self {
        RegexpExtract {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8]),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8, DataType::Int64]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &str {
        "regexp_extract"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let texts = strings(&args, 0)?;
        let patterns = strings(&args, 1)?;
        let index = match args.args.len() {
            3 => constant_int(&args, 2, "REGEXP_EXTRACT")?,
            _ => Some(0),
        };
        let mut compiled: Option<(String, Regex)> = None;
        let mut out = Vec::with_capacity(texts.len());
        for row in 0..texts.len() {
            if texts.is_null(row) || patterns.is_null(row) {
                out.push(None);
                continue;
            }
            let Some(index) = index.and_then(|i| usize::try_from(i).ok()) else {
                out.push(None);
                continue;
            };
            let pattern = patterns.value(row);
            if compiled.as_ref().is_none_or(|(p, _)| p != pattern) {
                match Regex::new(pattern) {
                    Ok(regex) => compiled = Some((pattern.to_string(), regex)),
                    Err(e) => return exec_err!("REGEXP_EXTRACT: invalid regex '{pattern}': {e}"),
                }
            }
            let (_, regex) = compiled.as_ref().expect("compiled above");
            out.push(
                regex
                    .captures(texts.value(row))
                    .and_then(|c| c.get(index))
                    .map(|m| m.as_str().to_string()),
            );
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
    }
}

/// `SPLIT_INDEX(string, separator, index)`: the `index`-th (from 0) part of `string` split
/// at every `separator` (empty parts kept); NULL when there is no such part or an argument
/// is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct SplitIndex {
    signature: Signature,
}

impl Default for SplitIndex {
    fn default() -> Self {
        SplitIndex {
            signature: Signature::exact(
                vec![DataType::Utf8, DataType::Utf8, DataType::Int64],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for SplitIndex {
    fn name(&self) -> &str {
        "split_index"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let texts = strings(&args, 0)?;
        let separators = strings(&args, 1)?;
        let index = constant_int(&args, 2, "SPLIT_INDEX")?.and_then(|i| usize::try_from(i).ok());
        let out: StringArray = (0..texts.len())
            .map(|row| {
                if texts.is_null(row) || separators.is_null(row) {
                    return None;
                }
                let (text, separator) = (texts.value(row), separators.value(row));
                if text.is_empty() {
                    return None;
                }
                if separator.is_empty() {
                    return (index? == 0).then_some(text);
                }
                text.split(separator).nth(index?)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion_expr::ScalarUDF;

    use super::*;

    fn call(f: impl ScalarUDFImpl + 'static, args: Vec<ScalarValue>) -> Option<String> {
        let udf = ScalarUDF::from(f);
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(arrow::datatypes::Field::new("a", a.data_type(), true)))
            .collect();
        let result = udf
            .invoke_with_args(ScalarFunctionArgs {
                args: args.into_iter().map(ColumnarValue::Scalar).collect(),
                arg_fields,
                number_rows: 1,
                return_field: Arc::new(arrow::datatypes::Field::new("r", DataType::Utf8, true)),
                config_options: Arc::new(Default::default()),
            })
            .unwrap()
            .to_array(1)
            .unwrap();
        let result = result.as_string::<i32>();
        result.is_valid(0).then(|| result.value(0).to_string())
    }

    fn text(s: &str) -> ScalarValue {
        ScalarValue::Utf8(Some(s.into()))
    }

    #[test]
    fn split_index_counts_from_zero_and_keeps_empty_parts() {
        let url = text("https://www.nexmark.com/a/b/item.htm");
        let part = |i| {
            call(
                SplitIndex::default(),
                vec![url.clone(), text("/"), ScalarValue::Int64(Some(i))],
            )
        };
        assert_eq!(part(1).as_deref(), Some(""));
        assert_eq!(part(3).as_deref(), Some("a"));
        assert_eq!(part(9), None);
        assert_eq!(part(-1), None);
    }

    #[test]
    fn regexp_extract_takes_a_group_of_the_first_match() {
        let extract = |s: &str, i| {
            call(
                RegexpExtract::default(),
                vec![
                    text(s),
                    text("(&|^)channel_id=([^&]*)"),
                    ScalarValue::Int64(Some(i)),
                ],
            )
        };
        assert_eq!(extract("a=1&channel_id=42&b=2", 2).as_deref(), Some("42"));
        assert_eq!(extract("channel_id=7", 1).as_deref(), Some(""));
        assert_eq!(extract("a=1", 2), None);
    }
}
