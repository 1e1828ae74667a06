//! The golden SQL tests: every `tests/sql/NAME.sql` runs through Weir's SQL runner and its
//! printed results are compared with `NAME.expected`, the output of real Apache Flink for the
//! same script (made by `tests/sql/generate_expected.sh`; Flink is not needed here).
//!
//! A script says how its results compare with `-- compare: MODE`:
//! - `changelog`: the same rows with the same row kinds in the same order;
//! - `multiset` (the default): the same rows and kinds in any order;
//! - `final`: the same final result once each changelog is applied (`+I`/`+U` add a row,
//!   `-U`/`-D` remove one), for results whose interleaving is not deterministic.
//!
//! A script with a line `-- mode: batch` runs in batch mode (`execution.runtime-mode: batch`,
//! as Flink ran it), whose results are final rows printed without the `op` column.
//!
//! Every script runs with state on the heap and, when the `rocksdb` feature is on, again
//! with `state.backend.type: rocksdb` (module `on_rocksdb`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use weir_core::config::Configuration;
use weir_sql::{run_script, TableEnvironment};

/// A printed result table: its header and rows of cells.
#[derive(Debug, Clone, PartialEq)]
struct ResultTable {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

/// The query result tables in printed output: those with an `op` column, or in `batch` mode
/// every table.
fn result_tables(output: &str, batch: bool) -> Vec<ResultTable> {
    let mut tables = Vec::new();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("+-") {
            continue;
        }
        let Some(header) = lines.next_if(|l| l.starts_with('|')) else {
            continue;
        };
        let header = cells(header);
        lines.next_if(|l| l.starts_with("+-"));
        let mut rows = Vec::new();
        while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
            rows.push(cells(row));
        }
        lines.next_if(|l| l.starts_with("+-"));
        if batch || header.first().map(String::as_str) == Some("op") {
            tables.push(ResultTable { header, rows });
        }
    }
    tables
}

/// Applies a changelog: the rows (without the op column) that remain.
fn final_rows(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut result: Vec<Vec<String>> = Vec::new();
    for row in rows {
        let values = row[1..].to_vec();
        match row[0].as_str() {
            "+I" | "+U" => result.push(values),
            _ => {
                if let Some(i) = result.iter().position(|r| *r == values) {
                    result.remove(i);
                } else {
                    panic!("retraction of a row that is not in the result: {row:?}");
                }
            }
        }
    }
    result.sort();
    result
}

fn compare_mode(script: &str) -> String {
    script
        .lines()
        .find_map(|l| l.trim().strip_prefix("-- compare:"))
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| "multiset".into())
}

fn sql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sql")
}

fn is_batch(script: &str) -> bool {
    script.lines().any(|l| l.trim() == "-- mode: batch")
}

fn run_weir(script: &str, dir: &Path, backend: &str) -> String {
    let mut config = Configuration::new();
    config.set_string("state.backend.type", backend);
    if is_batch(script) {
        config.set_string("execution.runtime-mode", "batch");
    }
    let mut env = TableEnvironment::new(config);
    let vars = HashMap::from([("DIR".to_string(), dir.display().to_string())]);
    let mut out = Vec::new();
    if let Err(e) = run_script(&mut env, script, &vars, &mut out) {
        panic!(
            "the script failed: {e}\noutput so far:\n{}",
            String::from_utf8_lossy(&out)
        );
    }
    String::from_utf8(out).expect("UTF-8 output")
}

/// Runs `tests/sql/NAME.sql` with state in `backend` and compares its results with Flink's.
fn check(name: &str, backend: &str) {
    let dir = sql_dir().canonicalize().expect("tests/sql exists");
    let script = std::fs::read_to_string(dir.join(format!("{name}.sql"))).expect("script");
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected")))
        .expect("expected output (run tests/sql/generate_expected.sh)");
    let actual_output = run_weir(&script, &dir, backend);
    let batch = is_batch(&script);
    let expected_tables = result_tables(&expected, batch);
    let actual_tables = result_tables(&actual_output, batch);
    assert!(
        !expected_tables.is_empty(),
        "{name}: Flink printed no results"
    );
    assert_eq!(
        expected_tables.len(),
        actual_tables.len(),
        "{name}: number of results differs\nWeir printed:\n{actual_output}"
    );
    let mode = compare_mode(&script);
    for (i, (e, a)) in expected_tables.iter().zip(&actual_tables).enumerate() {
        assert_eq!(
            e.header,
            a.header,
            "{name}: result {} has other columns",
            i + 1
        );
        let (e_rows, a_rows) = match mode.as_str() {
            "changelog" => (e.rows.clone(), a.rows.clone()),
            "final" => (final_rows(&e.rows), final_rows(&a.rows)),
            _ => {
                let (mut e, mut a) = (e.rows.clone(), a.rows.clone());
                e.sort();
                a.sort();
                (e, a)
            }
        };
        assert_eq!(
            e_rows,
            a_rows,
            "{name}: result {} differs from Flink's ({mode})\nWeir printed:\n{actual_output}",
            i + 1
        );
    }
}

macro_rules! golden {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), "hashmap");
            }
        )*

        #[cfg(feature = "rocksdb")]
        mod on_rocksdb {
            $(
                #[test]
                fn $name() {
                    super::check(stringify!($name), "rocksdb");
                }
            )*
        }

        /// Every script in tests/sql has a test here.
        #[test]
        fn every_script_is_tested() {
            let known = [$(stringify!($name)),*];
            for entry in std::fs::read_dir(sql_dir()).expect("tests/sql") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "sql") {
                    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
                    assert!(known.contains(&stem.as_str()), "tests/sql/{stem}.sql has no golden test");
                }
            }
        }
    };
}

golden!(
    select_filter,
    group_agg,
    agg_phases,
    distinct_union,
    window_tvf,
    session_window,
    group_window,
    formats,
    values_view,
    joins_inner,
    joins,
    interval_join,
    window_join,
    nexmark_rows,
    nexmark_functions,
    batch,
    top_n,
    over_agg,
    rank_batch,
    unnest,
    dedup,
    window_top_n,
    table_api
);

#[test]
fn parser_reads_flink_tables() {
    let output = "+----+---+\n| op | a |\n+----+---+\n| +I | 1 |\n| -U | 1 |\n| +U | 2 |\n+----+---+\n3 rows in set\n";
    let tables = result_tables(output, false);
    assert_eq!(tables.len(), 1);
    assert_eq!(final_rows(&tables[0].rows), vec![vec!["2".to_string()]]);
}
