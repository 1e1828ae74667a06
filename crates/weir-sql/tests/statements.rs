//! The SQL client's statements other than queries: DDL, SHOW, DESCRIBE, SET/RESET, EXPLAIN,
//! INSERT into sinks, and the errors users see.

use std::collections::HashMap;
use std::path::PathBuf;

use weir_core::config::Configuration;
use weir_sql::{run_script, SqlError, StatementResult, TableEnvironment};

const ORDERS: &str = "CREATE TABLE orders (
  id INT NOT NULL,
  customer STRING,
  amount INT,
  ts TIMESTAMP(3),
  big AS amount * 10,
  pt AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv')";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sql")
        .canonicalize()
        .expect("tests/sql")
}

fn run(script: &str) -> Result<String, SqlError> {
    let mut env = TableEnvironment::new(Configuration::new());
    let vars = HashMap::from([("DIR".to_string(), data_dir().display().to_string())]);
    let mut out = Vec::new();
    run_script(&mut env, script, &vars, &mut out)?;
    Ok(String::from_utf8(out).expect("UTF-8"))
}

#[test]
fn show_describe_and_show_create() {
    let out = run(&format!(
        "{ORDERS};\nCREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 5;\n\
         SHOW TABLES;\nDESCRIBE orders;\nSHOW CREATE TABLE orders;\nDROP VIEW big_orders;\nSHOW VIEWS;"
    ))
    .unwrap();
    assert!(out.contains("| big_orders |"), "{out}");
    assert!(out.contains("TIMESTAMP(3) *ROWTIME*"), "{out}");
    assert!(out.contains("*PROCTIME*"), "{out}");
    assert!(out.contains("PRI(id)"), "{out}");
    assert!(out.contains("AS amount * 10"), "{out}");
    assert!(
        out.contains("WATERMARK FOR `ts` AS ts - INTERVAL '5' SECOND"),
        "{out}"
    );
    assert!(out.contains("PRIMARY KEY (`id`) NOT ENFORCED"), "{out}");
    assert!(out.ends_with("Empty set\n"), "{out}");
}

#[test]
fn explain_shows_the_streaming_operators() {
    let out = run(&format!(
        "{ORDERS};\nEXPLAIN SELECT customer, COUNT(*) AS n FROM orders WHERE amount > 1 GROUP BY customer;"
    ))
    .unwrap();
    for operator in [
        "GroupAggregate(groupBy=[customer]",
        "Exchange(distribution=[hash[customer]])",
        "WatermarkAssigner(rowtime=[ts]",
        "TableSourceScan(table=[[default_catalog, default_database, orders]]",
    ] {
        assert!(out.contains(operator), "missing {operator}:\n{out}");
    }
}

/// As Flink's planner: two phases (a local aggregation before the shuffle, a global one
/// after it) when mini-batch is on and the strategy is not ONE_PHASE, else one.
#[test]
fn explain_shows_two_phase_aggregation_with_mini_batch() {
    let query =
        "EXPLAIN SELECT customer, COUNT(DISTINCT amount) AS n FROM orders GROUP BY customer;";
    let mini_batch = "SET 'table.exec.mini-batch.enabled' = 'true';
        SET 'table.exec.mini-batch.allow-latency' = '1 s';
        SET 'table.exec.mini-batch.size' = '1000';";
    let plan = |settings: &str| run(&format!("{ORDERS};\n{settings}\n{query}")).unwrap();
    for settings in [
        "",
        "SET 'table.optimizer.agg-phase-strategy' = 'TWO_PHASE';",
        &format!("{mini_batch}\nSET 'table.optimizer.agg-phase-strategy' = 'ONE_PHASE';"),
    ] {
        let out = plan(settings);
        assert!(out.contains("GroupAggregate(groupBy=[customer]"), "{out}");
        assert!(!out.contains("LocalGroupAggregate"), "{out}");
    }
    for strategy in ["AUTO", "TWO_PHASE"] {
        let out = plan(&format!(
            "{mini_batch}\nSET 'table.optimizer.agg-phase-strategy' = '{strategy}';"
        ));
        let global = out
            .find("GlobalGroupAggregate(groupBy=[customer]")
            .expect(&out);
        let exchange = out
            .find("Exchange(distribution=[hash[customer]])")
            .expect(&out);
        let local = out
            .find("LocalGroupAggregate(groupBy=[customer]")
            .expect(&out);
        assert!(global < exchange && exchange < local, "{out}");
    }
}

#[test]
fn mini_batch_needs_a_size_and_a_latency() {
    let err = run(&format!(
        "{ORDERS};\nSET 'table.exec.mini-batch.enabled' = 'true';
         SET 'table.exec.mini-batch.allow-latency' = '1 s';
         SELECT customer, COUNT(*) FROM orders GROUP BY customer;"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("'table.exec.mini-batch.size' must be greater than zero"),
        "{err}"
    );
}

#[test]
fn insert_into_a_filesystem_table_writes_committed_files() {
    let out_dir = std::env::temp_dir().join(format!("weir-sql-insert-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let script = format!(
        "{ORDERS};\nCREATE TABLE sink (id INT, who STRING) WITH ('connector' = 'filesystem', \
         'path' = '{}', 'format' = 'json');\nINSERT INTO sink SELECT id, customer FROM orders WHERE amount >= 10;",
        out_dir.display()
    );
    run(&script).unwrap();
    let written = std::fs::read_to_string(out_dir.join("part-0-0")).unwrap();
    assert_eq!(
        written,
        "{\"id\":1,\"who\":\"alice\"}\n{\"id\":2,\"who\":\"bob\"}\n"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn set_and_reset_change_the_job_configuration() {
    let mut env = TableEnvironment::new(Configuration::new());
    env.execute_sql("SET 'parallelism.default' = '3'").unwrap();
    assert_eq!(
        env.config().unwrap().get_string("parallelism.default"),
        Some("3")
    );
    env.execute_sql("RESET 'parallelism.default'").unwrap();
    assert_eq!(
        env.config().unwrap().get_string("parallelism.default"),
        None
    );
}

#[test]
fn parse_errors_give_line_column_and_expectation() {
    let err = run("SELECT 1;\n\nSELECT customer,\n  , amount FROM orders;").unwrap_err();
    match err {
        SqlError::Parse {
            line,
            column,
            message,
        } => {
            assert_eq!((line, column), (4, 3), "{message}");
            assert!(message.contains("Expected"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn unknown_connector_and_table_are_explained() {
    let err = run("CREATE TABLE t (a INT) WITH ('connector' = 'kafak');").unwrap_err();
    assert!(
        err.to_string()
            .contains("available connectors: datagen, filesystem, nexmark, print, blackhole"),
        "{err}"
    );
    let err = run("SELECT * FROM nowhere;").unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
}

#[test]
fn bad_records_name_file_and_line() {
    let err = run(
        "CREATE TABLE fruit (id INT, name STRING, price DOUBLE) WITH ('connector' = 'filesystem', \
         'path' = '${DIR}/data/dirty.csv', 'format' = 'csv');\nSELECT * FROM fruit;",
    )
    .unwrap_err();
    assert!(err.to_string().contains("dirty.csv:2"), "{err}");
    assert!(err.to_string().contains("price"), "{err}");
}

#[test]
fn streaming_order_by_says_why_it_cannot_run() {
    let err = run(&format!("{ORDERS};\nSELECT * FROM orders ORDER BY amount;")).unwrap_err();
    assert!(err.to_string().contains("time attribute"), "{err}");
}

#[test]
fn a_type_error_names_its_expression_and_statement() {
    let err = run(&format!(
        "{ORDERS};\nSELECT id,\n  amount + customer AS total FROM orders;"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("in `amount + customer`"), "{err}");
    assert!(err.contains("Int32 + Utf8"), "{err}");
    assert!(
        err.starts_with("planning error: statement at line 11: in `amount + customer`"),
        "one prefix, with the statement's line: {err}"
    );
}

#[test]
fn datagen_sequence_is_bounded() {
    let mut env = TableEnvironment::new(Configuration::new());
    env.execute_sql(
        "CREATE TABLE gen (id BIGINT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '100000', \
         'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000', \
         'fields.v.min' = '1', 'fields.v.max' = '3')",
    )
    .unwrap();
    let StatementResult::Query(q) = env
        .execute_sql("SELECT COUNT(*) AS n, SUM(id) AS s, MIN(v) AS lo, MAX(v) AS hi FROM gen")
        .unwrap()
    else {
        panic!("query");
    };
    let batches: Vec<_> = q.rows.iter().collect();
    q.job.wait().unwrap();
    let last = batches.last().unwrap();
    let row = last.rows.num_rows() - 1;
    let col = |i: usize| {
        weir_sql::display::format_value(
            last.rows.column(i).as_ref(),
            row,
            weir_sql::display::BoolStyle::Upper,
        )
    };
    assert_eq!(col(0).as_deref(), Some("1000"));
    assert_eq!(col(1).as_deref(), Some("500500"));
    assert!(matches!(col(2).as_deref(), Some("1" | "2" | "3")));
}

#[test]
fn an_over_aggregation_is_refused_with_its_position() {
    let mut env = TableEnvironment::new(Configuration::new());
    let Err(err) = env.execute_sql(
        "SELECT item,\n  SUM(price) OVER (PARTITION BY item ORDER BY bidtime) AS total\n  FROM bids",
    ) else {
        panic!("an OVER aggregation was accepted");
    };
    let err = err.to_string();
    assert!(
        err.contains("OVER aggregations") && err.contains("ROW_NUMBER()"),
        "{err}"
    );
    assert!(err.contains("line 2, column 14"), "{err}");
}

#[test]
fn row_number_without_a_filter_on_it_says_how_to_use_it() {
    let err = run(&format!(
        "{ORDERS};\nSELECT id, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY amount) AS n FROM orders;"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("Top-N and deduplication"), "{err}");
    let err = run(&format!(
        "{ORDERS};\nSELECT * FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY amount) AS n \
         FROM orders) WHERE n > 2;"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("WHERE rownum <= N"), "{err}");
}

#[test]
fn explain_shows_top_n_and_deduplication() {
    let out = run(&format!(
        "{ORDERS};\n\
         EXPLAIN SELECT * FROM (SELECT customer, amount, ROW_NUMBER() OVER (PARTITION BY customer \
           ORDER BY amount DESC) AS n FROM orders) WHERE n <= 2;\n\
         EXPLAIN SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY ts DESC) \
           AS n FROM orders) WHERE n = 1;\n\
         EXPLAIN SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY pt) \
           AS n FROM orders) WHERE n = 1;\n\
         EXPLAIN SELECT * FROM (SELECT customer, window_start, window_end, ROW_NUMBER() OVER \
           (PARTITION BY window_start, window_end ORDER BY amount DESC) AS n FROM \
           TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECONDS))) WHERE n <= 3;"
    ))
    .unwrap();
    for operator in [
        "Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, \
         rankEnd=2], partitionBy=[customer], orderBy=[amount DESC], select=[customer, id, amount, ts, big, pt, \
         w0$o0])",
        "Deduplicate(keep=[LastRow], key=[customer], order=[ROWTIME])",
        "Deduplicate(keep=[FirstRow], key=[customer], order=[PROCTIME])",
        "WindowRank(rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=3], \
         partitionBy=[window_start, window_end], orderBy=[amount DESC]",
        "Exchange(distribution=[hash[customer]])",
    ] {
        assert!(out.contains(operator), "missing {operator}:\n{out}");
    }
}

#[test]
fn coalesce_takes_the_first_value_that_is_not_null() {
    let out = run(
        "SELECT a, COALESCE(a, b, 0) AS c FROM (VALUES (1, 2), (CAST(NULL AS INT), 3), \
         (CAST(NULL AS INT), CAST(NULL AS INT))) AS t(a, b);",
    )
    .unwrap();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("| +I"))
        .map(|l| {
            l.split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            ["+I", "1", "1"],
            ["+I", "<NULL>", "3"],
            ["+I", "<NULL>", "0"]
        ],
        "{out}"
    );
}

#[test]
fn a_statement_set_runs_its_inserts_as_one_job() {
    let base = std::env::temp_dir().join(format!("weir-sql-set-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (big, small) = (base.join("big"), base.join("small"));
    let sinks = format!(
        "CREATE TABLE big (id INT) WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');\n\
         CREATE TABLE small (id INT) WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'csv')",
        big.display(),
        small.display()
    );
    let set = "EXECUTE STATEMENT SET BEGIN\n\
               INSERT INTO big SELECT id FROM orders WHERE amount >= 10;\n\
               INSERT INTO small SELECT id FROM orders WHERE amount < 10;\nEND";
    let mut env = TableEnvironment::new(Configuration::new());
    let vars = HashMap::from([("DIR".to_string(), data_dir().display().to_string())]);
    let mut out = Vec::new();
    run_script(&mut env, &format!("{ORDERS};\n{sinks};"), &vars, &mut out).unwrap();
    let StatementResult::Job(job) = env.execute_sql(set).unwrap() else {
        panic!("a statement set submits a job");
    };
    let result = job.wait().unwrap();
    assert_eq!(
        result.job_name,
        "insert-into_default_catalog.default_database.big,default_catalog.default_database.small"
    );
    let read = |dir: &std::path::Path| std::fs::read_to_string(dir.join("part-0-0")).unwrap();
    assert_eq!(read(&big), "1\n2\n");
    assert_eq!(read(&small), "3\n4\n5\n6\n");
    let err = env
        .execute_sql("BEGIN STATEMENT SET; SELECT 1; END")
        .err()
        .expect("a query in a statement set is refused");
    assert!(err.to_string().contains("only INSERT statements"), "{err}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn batch_mode_writes_final_rows_and_refuses_unbounded_sources() {
    let out_dir = std::env::temp_dir().join(format!("weir-sql-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let script = format!(
        "SET 'execution.runtime-mode' = 'batch';\n{ORDERS};\n\
         CREATE TABLE totals (customer STRING, total INT) WITH ('connector' = 'filesystem', \
         'path' = '{}', 'format' = 'csv');\n\
         INSERT INTO totals SELECT customer, SUM(amount) FROM orders GROUP BY customer;",
        out_dir.display()
    );
    run(&script).unwrap();
    let mut lines: Vec<String> = std::fs::read_to_string(out_dir.join("part-0-0"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    assert_eq!(lines, ["alice,18", "bob,21", "carol,7"]);
    let err = run("SET 'execution.runtime-mode' = 'batch';\n\
         CREATE TABLE endless (a INT) WITH ('connector' = 'datagen');\nSELECT a FROM endless;")
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "Querying an unbounded table 'default_catalog.default_database.endless' in batch mode"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}
