//! User-defined functions registered from Rust: aggregate functions (a weighted average with
//! retract and merge, a longest-string function without retract) in every kind of
//! aggregation, and table functions (a word splitter, `UNNEST`) in lateral joins. Each query computes the same figure with built-in functions beside the UDAF
//! (`SUM(v * w) / SUM(w)`, checked against Flink by the golden tests), and the final results
//! are also worked out in plain Rust from the test's own input.

mod savepoint_support;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, StringArray, UInt32Array};
use arrow::datatypes::{DataType, Field};
use datafusion_common::{Result as DfResult, ScalarValue};
use datafusion_expr::{Signature, Volatility};
use serde::{Deserialize, Serialize};
use weir_core::config::{options, Configuration};
use weir_sql::functions::{AggregateFunction, TableFunction, TableRows};
use weir_sql::{run_script, SqlError, TableEnvironment};

/// `WEIGHTED_AVG(value, weight)`: `SUM(value * weight) / SUM(weight)` in whole numbers (Flink's
/// documentation example), NULL without weight.
struct WeightedAvg(Signature);

#[derive(Serialize, Deserialize)]
struct WeightedAvgAcc {
    sum: i64,
    weight: i64,
}

/// The two arguments as whole numbers, unless one is NULL.
fn value_and_weight(args: &[ScalarValue]) -> Option<(i64, i64)> {
    match args {
        [ScalarValue::Int64(Some(v)), ScalarValue::Int64(Some(w))] => Some((*v, *w)),
        _ => None,
    }
}

impl AggregateFunction for WeightedAvg {
    type Accumulator = WeightedAvgAcc;
    fn name(&self) -> &str {
        "weighted_avg"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }
    fn create_accumulator(&self) -> WeightedAvgAcc {
        WeightedAvgAcc { sum: 0, weight: 0 }
    }
    fn accumulate(&self, acc: &mut WeightedAvgAcc, args: &[ScalarValue]) -> DfResult<()> {
        if let Some((v, w)) = value_and_weight(args) {
            acc.sum += v * w;
            acc.weight += w;
        }
        Ok(())
    }
    fn supports_retract(&self) -> bool {
        true
    }
    fn retract(&self, acc: &mut WeightedAvgAcc, args: &[ScalarValue]) -> DfResult<()> {
        if let Some((v, w)) = value_and_weight(args) {
            acc.sum -= v * w;
            acc.weight -= w;
        }
        Ok(())
    }
    fn merge(&self, acc: &mut WeightedAvgAcc, other: WeightedAvgAcc) -> DfResult<()> {
        acc.sum += other.sum;
        acc.weight += other.weight;
        Ok(())
    }
    fn get_value(&self, acc: &WeightedAvgAcc) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Int64(
            (acc.weight != 0).then(|| acc.sum / acc.weight),
        ))
    }
}

/// `LONGEST(s)`: the length of the longest string; cannot retract.
struct Longest(Signature);

impl AggregateFunction for Longest {
    type Accumulator = i64;
    fn name(&self) -> &str {
        "longest"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }
    fn create_accumulator(&self) -> i64 {
        0
    }
    fn accumulate(&self, acc: &mut i64, args: &[ScalarValue]) -> DfResult<()> {
        if let ScalarValue::Utf8(Some(s)) = &args[0] {
            *acc = (*acc).max(s.len() as i64);
        }
        Ok(())
    }
    fn merge(&self, acc: &mut i64, other: i64) -> DfResult<()> {
        *acc = (*acc).max(other);
        Ok(())
    }
    fn get_value(&self, acc: &i64) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Int64(Some(*acc)))
    }
}

/// The test's input rows: key, value, weight.
const SCORES: [(&str, i64, i64); 9] = [
    ("a", 10, 1),
    ("b", 7, 3),
    ("a", 4, 2),
    ("c", 100, 1),
    ("b", 1, 1),
    ("a", 31, 5),
    ("c", 50, 3),
    ("b", 9, 2),
    ("a", 2, 4),
];

/// `scores(k, v, w)` as a VALUES view.
fn scores_view() -> String {
    let rows: Vec<String> = SCORES
        .iter()
        .map(|(k, v, w)| format!("('{k}', {v}, {w})"))
        .collect();
    format!(
        "CREATE VIEW scores AS SELECT * FROM (VALUES {}) AS t(k, v, w);\n",
        rows.join(", ")
    )
}

/// Per key: `SUM(v * w) / SUM(w)` of [`SCORES`], computed directly.
fn weighted_averages() -> BTreeMap<String, i64> {
    let mut sums: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (k, v, w) in SCORES {
        let s = sums.entry(k.to_string()).or_default();
        s.0 += v * w;
        s.1 += w;
    }
    sums.into_iter().map(|(k, (s, w))| (k, s / w)).collect()
}

fn environment(config: Configuration) -> TableEnvironment {
    let mut env = TableEnvironment::new(config);
    let int64 = || DataType::Int64;
    (env.functions_mut()).register_aggregate(WeightedAvg(Signature::exact(
        vec![int64(), int64()],
        Volatility::Immutable,
    )));
    (env.functions_mut()).register_aggregate(Longest(Signature::exact(
        vec![DataType::Utf8],
        Volatility::Immutable,
    )));
    env
}

/// Runs `script` with the functions registered; returns what it printed.
fn run_with(config: Configuration, script: &str) -> Result<String, SqlError> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sql");
    let vars = HashMap::from([("DIR".to_string(), dir.display().to_string())]);
    let mut out = Vec::new();
    run_script(&mut environment(config), script, &vars, &mut out)?;
    Ok(String::from_utf8(out).expect("UTF-8"))
}

/// The rows of the one result table in `out` (cells without borders), header first.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            let cells = l.trim_matches('|').split('|');
            cells.map(|c| c.trim().to_string()).collect()
        })
        .collect()
}

/// Runs the query `script` and returns its rows without header, checking on each that the
/// last two columns (the UDAF's and the built-ins' figure) agree.
fn run_checked(config: Configuration, script: &str) -> Vec<Vec<String>> {
    let out = run_with(config, script).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = rows(&out);
    assert!(rows.len() > 1, "no rows:\n{out}");
    rows.remove(0);
    for row in &rows {
        let n = row.len();
        assert_eq!(
            row[n - 2],
            row[n - 1],
            "UDAF differs from built-ins:\n{out}"
        );
    }
    rows
}

/// The final table of a changelog whose rows are `op`, key, then values.
fn final_by_key(changes: &[Vec<String>]) -> BTreeMap<String, String> {
    let mut table = BTreeMap::new();
    for row in changes {
        match row[0].as_str() {
            "+I" | "+U" => table.insert(row[1].clone(), row[2].clone()),
            _ => table.remove(&row[1]),
        };
    }
    table
}

fn as_strings(map: BTreeMap<String, i64>) -> BTreeMap<String, String> {
    map.into_iter().map(|(k, v)| (k, v.to_string())).collect()
}

const GROUPED: &str =
    "SELECT k, weighted_avg(v, w) AS wa, SUM(v * w) / SUM(w) AS expected FROM scores GROUP BY k;";

#[test]
fn udaf_in_an_updating_group_by() {
    let changes = run_checked(Configuration::new(), &format!("{}{GROUPED}", scores_view()));
    assert_eq!(final_by_key(&changes), as_strings(weighted_averages()));
}

/// Mini-batch, one and two phases: the local phase accumulates, the global one merges.
#[test]
fn udaf_in_mini_batch_and_two_phase_aggregation() {
    for strategy in ["ONE_PHASE", "TWO_PHASE"] {
        let mut config = Configuration::new();
        config.set_string("table.exec.mini-batch.enabled", "true");
        config.set_string("table.exec.mini-batch.allow-latency", "1 s");
        config.set_string("table.exec.mini-batch.size", "2");
        config.set_string("table.optimizer.agg-phase-strategy", strategy);
        let changes = run_checked(config.clone(), &format!("{}{GROUPED}", scores_view()));
        assert_eq!(final_by_key(&changes), as_strings(weighted_averages()));
        let plan = run_with(config, &format!("{}EXPLAIN {GROUPED}", scores_view())).unwrap();
        assert_eq!(
            plan.contains("LocalGroupAggregate"),
            strategy == "TWO_PHASE",
            "{plan}"
        );
    }
}

/// Over an updating input (the sums per key change), the UDAF retracts the old sums.
#[test]
fn udaf_retracts_the_rows_of_an_updating_input() {
    let query = format!(
        "{}SELECT parity, weighted_avg(total, n) AS wa, SUM(total * n) / SUM(n) AS expected \
         FROM (SELECT k, CAST(COUNT(*) % 2 AS BIGINT) AS parity, SUM(v) AS total, COUNT(*) AS n \
               FROM scores GROUP BY k) GROUP BY parity;",
        scores_view()
    );
    let changes = run_checked(Configuration::new(), &query);
    // Per key: (sum of values, rows), then by the parity of the rows.
    let mut per_key: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (k, v, _) in SCORES {
        let e = per_key.entry(k).or_default();
        e.0 += v;
        e.1 += 1;
    }
    let mut by_parity: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (total, n) in per_key.values() {
        let e = by_parity.entry((n % 2).to_string()).or_default();
        e.0 += total * n;
        e.1 += n;
    }
    let expected = by_parity
        .into_iter()
        .map(|(p, (s, n))| (p, s / n))
        .collect();
    assert_eq!(final_by_key(&changes), as_strings(expected));
}

#[test]
fn udaf_without_retract_is_refused_over_an_updating_input() {
    let query = format!(
        "{}SELECT longest(k) FROM (SELECT k, COUNT(*) AS n FROM scores GROUP BY k) GROUP BY n;",
        scores_view()
    );
    let err = run_with(Configuration::new(), &query)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("longest") && err.contains("'retract'"),
        "{err}"
    );
    // Over an insert-only input it runs.
    let out = run_with(
        Configuration::new(),
        &format!(
            "{}SELECT v, longest(k) FROM scores GROUP BY v;",
            scores_view()
        ),
    )
    .unwrap();
    assert!(out.contains("| +I |"), "{out}");
}

const ORDERS: &str = "CREATE TABLE orders (
  id INT NOT NULL,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv');
";

/// Window TVF, legacy group window and session window aggregations (the last merges
/// sessions, so accumulators).
#[test]
fn udaf_in_window_aggregations() {
    let udaf = "weighted_avg(CAST(amount AS BIGINT), CAST(id AS BIGINT)) AS wa, \
                SUM(amount * id) / SUM(id) AS expected";
    let queries = [
        format!(
            "SELECT window_start, {udaf} FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), \
             INTERVAL '10' SECONDS)) GROUP BY window_start, window_end;"
        ),
        format!(
            "SELECT TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, {udaf} FROM orders \
             GROUP BY TUMBLE(ts, INTERVAL '10' SECOND);"
        ),
        format!(
            "SELECT customer, window_start, {udaf} FROM TABLE(SESSION(TABLE orders \
             PARTITION BY customer, DESCRIPTOR(ts), INTERVAL '10' SECONDS)) \
             GROUP BY customer, window_start, window_end;"
        ),
    ];
    for query in queries {
        let rows = run_checked(Configuration::new(), &format!("{ORDERS}{query}"));
        assert!(rows.iter().all(|r| r[0] == "+I"), "{rows:?}");
    }
}

#[test]
fn udaf_calls_with_wrong_arguments_are_refused() {
    for (query, expected) in [
        ("SELECT weighted_avg(v) FROM scores;", "weighted_avg"),
        ("SELECT weighted_avg(k, v) FROM scores;", "weighted_avg"),
        (
            "SELECT no_such_function(v) FROM scores;",
            "no_such_function",
        ),
    ] {
        let err = run_with(Configuration::new(), &format!("{}{query}", scores_view()))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{query}: {err}");
    }
}

/// `SPLIT(line)`: a row (word, length) per space-separated word of `line`.
struct Split(Signature);

impl TableFunction for Split {
    fn name(&self) -> &str {
        "split"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn output_fields(&self, _: &[DataType]) -> DfResult<Vec<Field>> {
        Ok(vec![
            Field::new("word", DataType::Utf8, true),
            Field::new("len", DataType::Int32, true),
        ])
    }
    fn eval(&self, args: &[ArrayRef]) -> DfResult<TableRows> {
        let (mut rows, mut words, mut lens) = (Vec::new(), Vec::new(), Vec::new());
        for (row, line) in args[0].as_string::<i32>().iter().enumerate() {
            for word in line.unwrap_or_default().split_whitespace() {
                rows.push(row as u32);
                words.push(word.to_string());
                lens.push(word.len() as i32);
            }
        }
        Ok(TableRows {
            input_rows: UInt32Array::from(rows),
            columns: vec![
                Arc::new(StringArray::from(words)),
                Arc::new(Int32Array::from(lens)),
            ],
        })
    }
}

/// The test's lines: id, text (one without words).
const LINES: [(i64, &str); 4] = [(1, "to be or"), (2, "not to be"), (3, ""), (4, "question")];

fn lines_view() -> String {
    let rows: Vec<String> = LINES
        .iter()
        .map(|(id, line)| format!("({id}, '{line}')"))
        .collect();
    format!(
        "CREATE VIEW lines AS SELECT * FROM (VALUES {}) AS t(id, line);\n",
        rows.join(", ")
    )
}

/// Runs `script` with the aggregate and table functions registered.
fn run_with_split(script: &str) -> Result<String, SqlError> {
    let mut env = environment(Configuration::new());
    (env.functions_mut()).register_table(Split(Signature::exact(
        vec![DataType::Utf8],
        Volatility::Immutable,
    )));
    let mut out = Vec::new();
    run_script(&mut env, script, &HashMap::new(), &mut out)?;
    Ok(String::from_utf8(out).expect("UTF-8"))
}

/// The rows of a query's result (without header), sorted.
fn sorted_rows(script: &str) -> Vec<Vec<String>> {
    let out = run_with_split(script).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = rows(&out);
    rows.remove(0);
    rows.sort();
    rows
}

/// `+I`, id, word, length of each word of [`LINES`]; with `keep_empty`, a NULL row for a line
/// without words.
fn split_rows(keep_empty: bool) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (id, line) in LINES {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() && keep_empty {
            rows.push(vec![
                "+I".into(),
                id.to_string(),
                "<NULL>".into(),
                "<NULL>".into(),
            ]);
        }
        for w in words {
            rows.push(vec![
                "+I".into(),
                id.to_string(),
                w.into(),
                w.len().to_string(),
            ]);
        }
    }
    rows.sort();
    rows
}

#[test]
fn udtf_lateral_table_joins() {
    for from in [
        "lines, LATERAL TABLE(split(line)) AS T(word, len)",
        "lines CROSS JOIN LATERAL TABLE(split(line)) AS T(word, len)",
    ] {
        let rows = sorted_rows(&format!(
            "{}SELECT id, word, len FROM {from};",
            lines_view()
        ));
        assert_eq!(rows, split_rows(false), "{from}");
    }
    let rows = sorted_rows(&format!(
        "{}SELECT id, word, len FROM lines LEFT JOIN LATERAL TABLE(split(line)) AS T(word, len) \
         ON TRUE;",
        lines_view()
    ));
    assert_eq!(rows, split_rows(true));
    let plan = run_with_split(&format!(
        "{}EXPLAIN SELECT id, word FROM lines, LATERAL TABLE(split(line)) AS T(word, len);",
        lines_view()
    ))
    .unwrap();
    assert!(
        plan.contains("Correlate(invocation=[split($cor0.line)]") && plan.contains("INNER"),
        "{plan}"
    );
}

/// Over an updating input (each key's latest line), the retraction of a line retracts its
/// words: the final words are those of the final lines.
#[test]
fn udtf_over_an_updating_input() {
    let changes = sorted_rows(&format!(
        "{}CREATE VIEW latest AS SELECT MOD(id, 2) AS k, MAX(line) AS line FROM lines \
         GROUP BY MOD(id, 2);\n\
         SELECT k, word FROM latest, LATERAL TABLE(split(line)) AS T(word, len);",
        lines_view()
    ));
    let mut words: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in &changes {
        let n = words.entry((row[1].clone(), row[2].clone())).or_default();
        *n += if row[0].starts_with('+') { 1 } else { -1 };
    }
    words.retain(|_, n| *n != 0);
    // The greatest line per id parity, split into words.
    let mut latest: BTreeMap<i64, &str> = BTreeMap::new();
    for (id, line) in LINES {
        let e = latest.entry(id % 2).or_insert(line);
        *e = (*e).max(line);
    }
    let mut expected = BTreeMap::new();
    for (k, line) in latest {
        for w in line.split_whitespace() {
            *expected.entry((k.to_string(), w.to_string())).or_default() += 1;
        }
    }
    assert_eq!(words, expected);
}

/// `CROSS JOIN UNNEST` of arrays (the capture groups of `REGEXP_MATCH`), with ordinality.
#[test]
fn unnest_arrays() {
    let rows = sorted_rows(&format!(
        "{}SELECT id, part, n FROM lines CROSS JOIN UNNEST(regexp_match(line, '(\\w+) (\\w+)')) \
         WITH ORDINALITY AS u(part, n);",
        lines_view()
    ));
    let mut expected = Vec::new();
    for (id, line) in LINES {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 2 {
            for (n, w) in words[..2].iter().enumerate() {
                expected.push(vec![
                    "+I".into(),
                    id.to_string(),
                    w.to_string(),
                    (n + 1).to_string(),
                ]);
            }
        }
    }
    expected.sort();
    assert_eq!(rows, expected);
}

#[test]
fn table_function_errors() {
    for (query, expected) in [
        (
            "SELECT * FROM lines, LATERAL TABLE(nothing(line)) AS T(w);",
            "nothing",
        ),
        (
            "SELECT * FROM lines, LATERAL TABLE(split(line, id)) AS T(w, n);",
            "split",
        ),
        (
            "SELECT * FROM lines CROSS JOIN UNNEST(id) AS u(x);",
            "ARRAY",
        ),
        (
            "SELECT * FROM (SELECT line FROM lines) AS s, LATERAL TABLE(split(s.line)) AS T(w, n);",
            "define a view",
        ),
    ] {
        let err = run_with_split(&format!("{}{query}", lines_view()))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{query}: {err}");
    }
}

/// (key, UDAF result, built-ins' result) of each accumulated row of a result, in order.
fn accumulated_rows(rows: crossbeam_channel::Receiver<weir_sql::ChangeBatch>) -> Vec<[i64; 3]> {
    let mut out = Vec::new();
    for batch in rows.iter() {
        let column = |i: usize| {
            let c = arrow::compute::cast(batch.rows.column(i), &DataType::Int64).unwrap();
            c.as_primitive::<arrow::datatypes::Int64Type>().clone()
        };
        let columns = [column(0), column(1), column(2)];
        for r in 0..batch.rows.num_rows() {
            if batch.kind(r).is_accumulate() {
                out.push(columns.each_ref().map(|c| c.value(r)));
            }
        }
    }
    out
}

/// A UDAF's accumulators go into a savepoint: stopped part way and restored, the job ends with
/// the weighted averages of all rows (lost accumulators would average only the rows after
/// the restore).
#[test]
fn udaf_accumulators_resume_from_a_savepoint() {
    const SOURCE: &str = "CREATE TABLE src (id BIGINT, k AS id % 4) WITH ('connector' = \
        'datagen', 'rows-per-second' = '1000', 'fields.id.kind' = 'sequence', \
        'fields.id.start' = '0', 'fields.id.end' = '3999')";
    const QUERY: &str = "SELECT k, weighted_avg(id, k + 1) AS wa, \
        SUM(id * (k + 1)) / SUM(k + 1) AS expected FROM src GROUP BY k";
    let dir = std::env::temp_dir().join(format!("weir-udaf-savepoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let env = environment(Configuration::new());
    let (job, collector) =
        savepoint_support::start_query_in(env, &[SOURCE], QUERY, accumulated_rows);
    let savepoint = savepoint_support::stop_part_way(job, &dir);
    let first = collector.join().unwrap();
    assert!(!first.is_empty(), "nothing before the savepoint");

    let mut config = Configuration::new();
    config.set(&options::SAVEPOINT_PATH, savepoint);
    let (job, collector) =
        savepoint_support::start_query_in(environment(config), &[SOURCE], QUERY, accumulated_rows);
    job.wait().unwrap();
    let second = collector.join().unwrap();
    let mut last = BTreeMap::new();
    for [k, wa, expected] in first.iter().chain(&second) {
        assert_eq!(wa, expected, "key {k}");
    }
    for [k, wa, _] in second {
        last.insert(k, wa);
    }
    // All ids of a key have the same weight: the weighted average is their average.
    let expected: BTreeMap<i64, i64> = (0..4)
        .map(|k| {
            let ids: Vec<i64> = (0..4000).filter(|id| id % 4 == k).collect();
            (k, ids.iter().sum::<i64>() / ids.len() as i64)
        })
        .collect();
    assert_eq!(last, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
