//! What the SQL plan tests share: running statements after their tables' DDL, with `${DIR}`
//! set to `tests/sql`, and checking the printed plan.

use std::collections::HashMap;
use std::path::PathBuf;

use weir_core::config::Configuration;
use weir_sql::{run_script, SqlError, TableEnvironment};

/// Runs `tables` then `statements` in a new environment and returns what they printed.
pub fn run_after(tables: &str, statements: &str) -> Result<String, SqlError> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sql")
        .canonicalize()
        .expect("tests/sql");
    let mut env = TableEnvironment::new(Configuration::new());
    let vars = HashMap::from([("DIR".to_string(), dir.display().to_string())]);
    let mut out = Vec::new();
    run_script(
        &mut env,
        &format!("{tables}\n{statements}"),
        &vars,
        &mut out,
    )?;
    Ok(String::from_utf8(out).expect("UTF-8"))
}

/// Asserts that `out` contains each of `parts`.
pub fn assert_contains(out: &str, parts: &[&str]) {
    for part in parts {
        assert!(out.contains(part), "missing {part}:\n{out}");
    }
}
