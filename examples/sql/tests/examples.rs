//! The examples' jobs: their printed results must equal figures worked out by hand from the
//! input (the CDN statistics) or follow from the generator's options (the window report).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use weir_core::config::Configuration;
use weir_sql::{run_script, TableEnvironment};
use weir_sql_examples::{ip_to_province, CDN_LOG_STATISTICS_SQL};

/// Runs `script` and returns the rows of its printed result tables (cells without borders).
fn run(config: Configuration, script: &str, vars: &[(&str, &str)]) -> Vec<Vec<String>> {
    let mut env = TableEnvironment::new(config);
    env.functions_mut().register_scalar(ip_to_province());
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut out = Vec::new();
    run_script(&mut env, script, &vars, &mut out)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out)));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// Per province: accesses, bytes, and bytes per unit of request time, worked out by hand from
/// data/cdn_access_log.csv.
fn expected_statistics() -> BTreeMap<String, (i64, i64, f64)> {
    [
        ("Beijing", 3, 10_000, 10_000.0 / 300.0),
        ("Shanghai", 2, 3_000, 3_000.0 / 100.0),
        ("Guangdong", 3, 4_500, 4_500.0 / 100.0),
        ("Intranet", 1, 100, 100.0 / 5.0),
        ("Unknown", 1, 400, 400.0 / 20.0),
    ]
    .into_iter()
    .map(|(p, n, bytes, speed)| (p.to_string(), (n, bytes, speed)))
    .collect()
}

fn statistics(rows: &[Vec<String>]) -> BTreeMap<String, (i64, i64, f64)> {
    rows.iter()
        .map(|r| {
            let n = r.len();
            (
                r[n - 4].clone(),
                (
                    r[n - 3].parse().unwrap(),
                    r[n - 2].parse().unwrap(),
                    r[n - 1].parse().unwrap(),
                ),
            )
        })
        .collect()
}

fn assert_statistics(actual: BTreeMap<String, (i64, i64, f64)>) {
    let expected = expected_statistics();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (province, (n, bytes, speed)) in expected {
        let (an, abytes, aspeed) = actual[&province];
        assert_eq!((an, abytes), (n, bytes), "{province}");
        assert!(
            (aspeed - speed).abs() < 1e-6,
            "{province}: {aspeed} != {speed}"
        );
    }
}

fn input() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/cdn_access_log.csv")
        .display()
        .to_string()
}

#[test]
fn cdn_statistics_in_batch_mode_are_the_final_figures_per_province() {
    let mut config = Configuration::new();
    config.set_string("execution.runtime-mode", "batch");
    let rows = run(config, CDN_LOG_STATISTICS_SQL, &[("INPUT", &input())]);
    assert_eq!(rows[0][0], "province", "batch results have no op column");
    assert_statistics(statistics(&rows[1..]));
}

#[test]
fn cdn_statistics_as_a_changelog_end_at_the_same_figures() {
    let rows = run(
        Configuration::new(),
        CDN_LOG_STATISTICS_SQL,
        &[("INPUT", &input())],
    );
    assert_eq!(rows[0][0], "op");
    // The last +I/+U of each province is its final row (nothing is ever deleted here).
    let mut last = BTreeMap::new();
    for row in &rows[1..] {
        assert!(["+I", "-U", "+U"].contains(&row[0].as_str()), "{row:?}");
        if row[0] != "-U" {
            last.insert(row[1].clone(), row.clone());
        }
    }
    assert_statistics(statistics(&last.into_values().collect::<Vec<_>>()));
}

#[test]
fn the_window_report_counts_every_generated_view_once() {
    let script = include_str!("../sql/window_report.sql")
        .replace("'2000'", "'20000'")
        .replace("'40000'", "'30000'");
    let rows = run(Configuration::new(), &script, &[]);
    assert_eq!(
        rows[0],
        ["op", "window_start", "window_end", "page", "views", "users"]
    );
    let mut views = 0;
    let mut windows = BTreeMap::new();
    for row in &rows[1..] {
        assert_eq!(row[0], "+I", "a window result is final");
        let page: i64 = row[3].parse().unwrap();
        assert!((1..=3).contains(&page), "{row:?}");
        let users: i64 = row[5].parse().unwrap();
        assert!((1..=50).contains(&users), "{row:?}");
        assert!(
            windows.insert((row[1].clone(), page), ()).is_none(),
            "one row per window and page: {row:?}"
        );
        views += row[4].parse::<i64>().unwrap();
    }
    assert_eq!(views, 30_000, "every generated row counted once");
}
