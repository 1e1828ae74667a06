//! Flink SQL jobs over files and datagen, run by Weir (see `README.md`):
//!
//! - the CDN log statistics (`src/bin/cdn_log_statistics.rs` with
//!   `sql/cdn_log_statistics.sql`): accesses, bytes and download speed per province, whose
//!   name the Rust scalar UDF [`ip_to_province`] finds from the client's IPv4 address;
//! - a window TVF report over datagen (`sql/window_report.sql`, run by `weir sql -f`);
//! - the Table API with the DataStream API in one job (`src/bin/table_api_clicks.rs`).

use std::net::Ipv4Addr;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::datatypes::DataType;
use datafusion_common::DataFusionError;
use datafusion_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};

/// The CDN statistics job (it needs [`ip_to_province`] and the variable `INPUT`).
pub const CDN_LOG_STATISTICS_SQL: &str = include_str!("../sql/cdn_log_statistics.sql");

/// The province of an address that is in none of [`PROVINCE_NETWORKS`].
pub const UNKNOWN_PROVINCE: &str = "Unknown";

/// IPv4 networks (address, prefix length) and their province: a small offline stand-in for
/// the seed's geolocation web service, enough for the example's logs.
pub const PROVINCE_NETWORKS: &[([u8; 4], u32, &str)] = &[
    ([111, 13, 0, 0], 16, "Beijing"),
    ([111, 206, 0, 0], 16, "Beijing"),
    ([116, 228, 0, 0], 14, "Shanghai"),
    ([183, 12, 0, 0], 14, "Guangdong"),
    ([10, 0, 0, 0], 8, "Intranet"),
];

/// The province of `ip` (dotted IPv4 text): the longest matching network of
/// [`PROVINCE_NETWORKS`], else [`UNKNOWN_PROVINCE`] (also for text that is no IPv4 address).
pub fn province_of(ip: &str) -> &'static str {
    let Ok(address) = ip.trim().parse::<Ipv4Addr>() else {
        return UNKNOWN_PROVINCE;
    };
    let address = u32::from(address);
    PROVINCE_NETWORKS
        .iter()
        .filter(|(network, prefix, _)| {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            address & mask == u32::from(Ipv4Addr::from(*network)) & mask
        })
        .max_by_key(|(_, prefix, _)| *prefix)
        .map_or(UNKNOWN_PROVINCE, |(_, _, province)| province)
}

/// The scalar function `ip_to_province(STRING) -> STRING` ([`province_of`] row by row; NULL
/// stays NULL). Register it with `env.functions_mut().register_scalar(ip_to_province())`.
pub fn ip_to_province() -> ScalarUDF {
    create_udf(
        "ip_to_province",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let ips = match &args[0] {
                ColumnarValue::Array(array) => array.clone(),
                ColumnarValue::Scalar(scalar) => scalar.to_array()?,
            };
            let ips = ips.as_any().downcast_ref::<StringArray>().ok_or_else(|| {
                DataFusionError::Execution("ip_to_province expects a STRING".into())
            })?;
            let provinces: StringArray = ips.iter().map(|ip| ip.map(province_of)).collect();
            Ok(ColumnarValue::Array(Arc::new(provinces) as ArrayRef))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_map_to_the_longest_matching_network() {
        assert_eq!(province_of("111.13.100.91"), "Beijing");
        assert_eq!(province_of("116.231.255.255"), "Shanghai");
        assert_eq!(province_of("116.232.0.1"), UNKNOWN_PROVINCE);
        assert_eq!(province_of("183.15.3.3"), "Guangdong");
        assert_eq!(province_of("10.0.0.7"), "Intranet");
        assert_eq!(province_of("not-an-ip"), UNKNOWN_PROVINCE);
    }
}
