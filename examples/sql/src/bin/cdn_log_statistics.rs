//! The seeds' CDN log statistics: registers the Rust scalar UDF `ip_to_province`, then runs
//! `sql/cdn_log_statistics.sql` over a CSV access log as `weir sql -f` would.
//!
//! ```sh
//! cdn_log_statistics [--input FILE] [--batch]
//! ```
//!
//! `--input` defaults to `examples/sql/data/cdn_access_log.csv`; `--batch` runs in batch
//! mode (`execution.runtime-mode: batch`) and prints the final statistics only.

use std::collections::HashMap;

use weir_core::config::Configuration;
use weir_sql::{run_script, TableEnvironment};
use weir_sql_examples::{ip_to_province, CDN_LOG_STATISTICS_SQL};

fn main() {
    let mut input = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdn_access_log.csv").to_string();
    let mut config = Configuration::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--input" => match args.next() {
                Some(path) => input = path,
                None => fail("--input needs a file"),
            },
            "--batch" => config.set_string("execution.runtime-mode", "batch"),
            other => fail(&format!(
                "unknown argument '{other}'; usage: cdn_log_statistics [--input FILE] [--batch]"
            )),
        }
    }
    let mut env = TableEnvironment::new(config);
    env.functions_mut().register_scalar(ip_to_province());
    let vars = HashMap::from([("INPUT".to_string(), input)]);
    if let Err(e) = run_script(
        &mut env,
        CDN_LOG_STATISTICS_SQL,
        &vars,
        &mut std::io::stdout(),
    ) {
        fail(&e.to_string());
    }
}

fn fail(message: &str) -> ! {
    eprintln!("[ERROR] {message}");
    std::process::exit(1);
}
