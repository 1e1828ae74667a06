//! Payments per province (the seed's PyFlink job, with an upsert-kafka sink instead of
//! Elasticsearch): registers the Rust scalar UDF `province_id_to_name`, then runs
//! `sql/payments_by_province.sql` as `weir sql -f` would.
//!
//! ```sh
//! payments_by_province [BOOTSTRAP_SERVERS]   # default: $WEIR_KAFKA_BOOTSTRAP or 127.0.0.1:9092
//! ```

use std::collections::HashMap;

use weir_core::config::Configuration;
use weir_sql::{run_script, TableEnvironment};
use weir_sql_kafka_examples::{province_id_to_name, PAYMENTS_BY_PROVINCE_SQL};

fn main() {
    let bootstrap = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("WEIR_KAFKA_BOOTSTRAP").ok())
        .unwrap_or_else(|| "127.0.0.1:9092".to_string());
    let mut env = TableEnvironment::new(Configuration::new());
    env.functions_mut().register_scalar(province_id_to_name());
    let vars = HashMap::from([("BOOTSTRAP".to_string(), bootstrap)]);
    if let Err(e) = run_script(
        &mut env,
        PAYMENTS_BY_PROVINCE_SQL,
        &vars,
        &mut std::io::stdout(),
    ) {
        eprintln!("[ERROR] {e}");
        std::process::exit(1);
    }
}
