//! The Table API: programs built with `select`, `filter`, `group_by`, group windows, joins,
//! `union_all`, `distinct`, ... checked against results computed here in plain Rust from the
//! same input file (`tests/sql/data/orders.csv`), and a DataStream → Table → SQL aggregation
//! → changelog stream → DataStream round trip with event time.

use std::collections::BTreeMap;
use std::path::PathBuf;

use weir_core::config::Configuration;
use weir_datastream::prelude::*;
use weir_sql::table_api::{
    call, col, lit, Datum, Row, RowKind, Schema, Session, Slide, StreamTableEnvironment, Table,
    Tumble,
};

/// One line of `orders.csv`: id, customer, amount, time (seconds after 10:00:00).
struct Order {
    id: i32,
    customer: String,
    amount: i32,
    second: i64,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sql/data")
        .canonicalize()
        .expect("tests/sql/data")
}

/// The orders, read from the file with plain Rust.
fn orders() -> Vec<Order> {
    let text = std::fs::read_to_string(data_dir().join("orders.csv")).expect("orders.csv");
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let clock: Vec<i64> = f[3][11..].split(':').map(|p| p.parse().unwrap()).collect();
            assert_eq!(&f[3][..11], "2024-01-01 ");
            Order {
                id: f[0].parse().unwrap(),
                customer: f[1].to_string(),
                amount: f[2].parse().unwrap(),
                second: (clock[0] - 10) * 3600 + clock[1] * 60 + clock[2],
            }
        })
        .collect()
}

/// `2024-01-01 10:00:00` plus `second`, as Flink's `Row.toString` prints a TIMESTAMP(3)
/// (Java's `LocalDateTime`, without zero seconds).
fn at(second: i64) -> String {
    let total = 10 * 3600 + second;
    let clock = format!("2024-01-01T{:02}:{:02}", total / 3600, total % 3600 / 60);
    match total % 60 {
        0 => clock,
        s => format!("{clock}:{s:02}"),
    }
}

/// The DDL of the `Orders` table over `${DIR}/data/orders.csv`.
const ORDERS_DDL: &str = "CREATE TABLE Orders (id INT, customer STRING, amount INT, \
    order_time TIMESTAMP(3), WATERMARK FOR order_time AS order_time - INTERVAL '1' SECOND) \
    WITH ('connector' = 'filesystem', 'path' = '${DIR}/data/orders.csv', 'format' = 'csv')";

/// A table environment with the `Orders` table over `orders.csv`.
fn orders_env() -> StreamTableEnvironment {
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    let t_env = StreamTableEnvironment::create(&env);
    let dir = data_dir().parent().unwrap().display().to_string();
    t_env
        .execute_sql(&ORDERS_DDL.replace("${DIR}", &dir))
        .unwrap();
    t_env
}

/// Table API programs whose SQL is in `tests/sql/table_api.sql`, whose results Flink
/// printed in `tests/sql/table_api.expected`.
fn flink_checked_programs(t_env: &StreamTableEnvironment) -> Vec<Table> {
    let orders = t_env.from_path("Orders").unwrap();
    let big = orders
        .filter(col("amount").is_greater_or_equal(lit(7)))
        .select([col("id").as_("big_id"), col("customer").as_("big_customer")]);
    vec![
        orders
            .window(
                Tumble::over(lit(10).seconds())
                    .on(col("order_time"))
                    .alias("w"),
            )
            .group_by([col("w"), col("customer")])
            .unwrap()
            .select([
                col("customer"),
                col("w").start().as_("window_start"),
                col("w").end().as_("window_end"),
                col("amount").sum().as_("total"),
                col("id").count().as_("n"),
            ]),
        orders
            .window(
                Slide::over(lit(10).seconds())
                    .every(lit(5).seconds())
                    .on(col("order_time"))
                    .alias("w"),
            )
            .group_by([col("w")])
            .unwrap()
            .select([
                col("w").end().as_("window_end"),
                col("amount").max().as_("top"),
            ]),
        orders.group_by([col("customer")]).select([
            col("customer"),
            col("amount").min().as_("low"),
            col("id").count_distinct().as_("ids"),
        ]),
        orders
            .join(&big)
            .where_(col("customer").is_equal(col("big_customer")))
            .select([
                col("id"),
                col("big_id"),
                col("amount").plus(lit(1)).as_("amount1"),
            ]),
        orders
            .left_outer_join(&big, col("id").is_equal(col("big_id")))
            .select([col("id"), col("big_customer")]),
        orders
            .select([col("customer")])
            .union_all(&big.select([col("big_customer")]))
            .distinct(),
    ]
}

/// The final rows of a table's changelog (each `+I`/`+U` adds a row, `-U`/`-D` removes
/// one), as text, sorted.
fn final_rows(table: &Table) -> Vec<String> {
    let changes = table.execute().unwrap().collect().unwrap();
    apply_changelog(
        changes
            .into_iter()
            .map(|(kind, row)| (kind.is_accumulate(), row.to_string())),
    )
}

/// The rows that remain of a changelog of (whether the change adds the row, the row),
/// sorted.
fn apply_changelog<T: PartialEq + Ord>(changes: impl IntoIterator<Item = (bool, T)>) -> Vec<T> {
    let mut rows = Vec::new();
    for (adds, row) in changes {
        if adds {
            rows.push(row);
        } else {
            let i = rows.iter().position(|r| *r == row).expect("retracts a row");
            rows.remove(i);
        }
    }
    rows.sort();
    rows
}

fn sorted(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

#[test]
fn expressions_render_flink_sql() {
    let e = col("a")
        .plus(lit(1))
        .is_greater(lit(2))
        .and(col("b").is_not_null());
    assert_eq!(e.to_sql(), "(((`a` + 1) > 2) AND (`b`) IS NOT NULL)");
    assert_eq!(col("v").sum().as_("total").to_sql(), "SUM(`v`) AS `total`");
    assert_eq!(lit(10).minutes().to_sql(), "INTERVAL '10' MINUTE");
    assert_eq!(lit("it's").to_sql(), "'it''s'");
    assert_eq!(col("u").count_distinct().to_sql(), "COUNT(DISTINCT `u`)");
    assert_eq!(col("ts").desc().to_sql(), "(`ts`) DESC");
    assert_eq!(call("f", [col("a"), lit(1)]).to_sql(), "`f`(`a`, 1)");
}

/// The final rows of each result table that `out` prints (cells without borders), once
/// each table's changelog is applied.
fn printed_final_tables(out: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let mut lines = out.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("| op ") {
            continue;
        }
        lines.next_if(|l| l.starts_with("+-"));
        let mut changes = Vec::new();
        while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
            let cells: Vec<String> = row
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            let adds = cells[0] == "+I" || cells[0] == "+U";
            changes.push((adds, cells[1..].to_vec()));
        }
        tables.push(apply_changelog(changes));
    }
    tables
}

#[test]
fn programs_write_the_sql_whose_results_flink_printed() {
    let sql_dir = data_dir().parent().unwrap().to_path_buf();
    let script = std::fs::read_to_string(sql_dir.join("table_api.sql")).unwrap();
    let expected = std::fs::read_to_string(sql_dir.join("table_api.expected")).unwrap();
    let statements: Vec<&str> = script
        .split(";\n")
        .map(str::trim)
        .filter(|s| s.starts_with("SELECT"))
        .collect();
    let t_env = orders_env();
    let programs = flink_checked_programs(&t_env);
    let sql: Vec<String> = programs.iter().map(Table::sql).collect();
    assert_eq!(statements, sql, "the Table API's SQL changed: update table_api.sql and regenerate its expected output with Flink");
    let mut out = Vec::new();
    for table in &programs {
        table.execute().unwrap().print_to(&mut out).unwrap();
    }
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        printed_final_tables(&out),
        printed_final_tables(&expected),
        "{out}"
    );
}

#[test]
fn select_filter_and_add_columns() {
    let t_env = orders_env();
    let table = t_env
        .from_path("Orders")
        .unwrap()
        .filter(col("amount").is_greater(lit(4)))
        .select([
            col("id"),
            col("customer"),
            col("amount").times(lit(2)).as_("double"),
        ])
        .add_columns([col("id").plus(lit(100)).as_("big_id")])
        .rename_columns([col("customer").as_("who")])
        .unwrap();
    let expected: Vec<String> = orders()
        .iter()
        .filter(|o| o.amount > 4)
        .map(|o| {
            format!(
                "[{}, {}, {}, {}]",
                o.id,
                o.customer,
                o.amount * 2,
                o.id + 100
            )
        })
        .collect();
    assert_eq!(final_rows(&table), sorted(expected));
    let names: Vec<String> = table
        .resolved_schema()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "who", "double", "big_id"]);
}

#[test]
fn registered_scalar_functions_are_called() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int32Array};
    use arrow::datatypes::DataType;
    use datafusion_expr::{create_udf, ColumnarValue, Volatility};

    let t_env = orders_env();
    let square = create_udf(
        "square",
        vec![DataType::Int32],
        DataType::Int32,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let values = ColumnarValue::values_to_arrays(args)?;
            let ints = values[0].as_any().downcast_ref::<Int32Array>().unwrap();
            let squares: Int32Array = ints.iter().map(|v| v.map(|v| v * v)).collect();
            Ok(ColumnarValue::Array(Arc::new(squares) as ArrayRef))
        }),
    );
    t_env.create_temporary_system_function(square);
    let table = t_env
        .from_path("Orders")
        .unwrap()
        .select([col("id"), call("square", [col("amount")]).as_("sq")]);
    let expected = orders()
        .iter()
        .map(|o| format!("[{}, {}]", o.id, o.amount * o.amount))
        .collect();
    assert_eq!(final_rows(&table), sorted(expected));
}

#[test]
fn group_by_is_an_updating_aggregation() {
    let t_env = orders_env();
    let table = t_env
        .from_path("Orders")
        .unwrap()
        .group_by([col("customer")])
        .select([
            col("customer"),
            col("amount").sum().as_("total"),
            col("id").count().as_("n"),
        ]);
    let mut expected: BTreeMap<String, (i32, i64)> = BTreeMap::new();
    for o in orders() {
        let e = expected.entry(o.customer).or_default();
        e.0 += o.amount;
        e.1 += 1;
    }
    let expected = expected
        .into_iter()
        .map(|(c, (total, n))| format!("[{c}, {total}, {n}]"))
        .collect();
    assert_eq!(final_rows(&table), sorted(expected));
    let changes = table.execute().unwrap().collect().unwrap();
    assert!(changes.iter().any(|(k, _)| *k == RowKind::UpdateAfter));
}

/// Sums of amounts per customer and window, from the orders' event times in plain Rust:
/// each window `[start, start + size)` whose start is a multiple of `slide`.
fn window_sums(size: i64, slide: i64) -> Vec<String> {
    let mut sums: BTreeMap<(String, i64), i32> = BTreeMap::new();
    for o in orders() {
        let mut start = o.second - o.second.rem_euclid(slide);
        while start > o.second - size {
            *sums.entry((o.customer.clone(), start)).or_default() += o.amount;
            start -= slide;
        }
    }
    sums.into_iter()
        .map(|((c, start), sum)| format!("[{c}, {}, {}, {sum}]", at(start), at(start + size)))
        .collect()
}

#[test]
fn tumbling_and_sliding_windows() {
    let t_env = orders_env();
    let orders = t_env.from_path("Orders").unwrap();
    let select = [
        col("customer"),
        col("w").start().as_("window_start"),
        col("w").end().as_("window_end"),
        col("amount").sum().as_("total"),
    ];
    let tumbling = orders
        .window(
            Tumble::over(lit(10).seconds())
                .on(col("order_time"))
                .alias("w"),
        )
        .group_by([col("w"), col("customer")])
        .unwrap()
        .select(select.clone());
    assert_eq!(final_rows(&tumbling), sorted(window_sums(10, 10)));
    let sliding = orders
        .window(
            Slide::over(lit(10).seconds())
                .every(lit(5).seconds())
                .on(col("order_time"))
                .alias("w"),
        )
        .group_by([col("w"), col("customer")])
        .unwrap()
        .select(select);
    assert_eq!(final_rows(&sliding), sorted(window_sums(10, 5)));
}

#[test]
fn session_windows() {
    let t_env = orders_env();
    let table = t_env
        .from_path("Orders")
        .unwrap()
        .window(
            Session::with_gap(lit(5).seconds())
                .on(col("order_time"))
                .alias("s"),
        )
        .group_by([col("s"), col("customer")])
        .unwrap()
        .select([
            col("customer"),
            col("s").start(),
            col("s").end(),
            col("amount").sum(),
        ]);
    // Sessions per customer: orders less than 5 s apart belong to one session.
    let mut by_customer: BTreeMap<String, Vec<(i64, i32)>> = BTreeMap::new();
    for o in orders() {
        by_customer
            .entry(o.customer)
            .or_default()
            .push((o.second, o.amount));
    }
    let mut expected = Vec::new();
    for (customer, mut events) in by_customer {
        events.sort();
        let (mut first, mut last, mut sum) = (events[0].0, events[0].0, 0);
        for (second, amount) in events {
            if second >= last + 5 {
                expected.push(format!(
                    "[{customer}, {}, {}, {sum}]",
                    at(first),
                    at(last + 5)
                ));
                (first, sum) = (second, 0);
            }
            last = second;
            sum += amount;
        }
        expected.push(format!(
            "[{customer}, {}, {}, {sum}]",
            at(first),
            at(last + 5)
        ));
    }
    assert_eq!(final_rows(&table), sorted(expected));
}

#[test]
fn joins_union_and_distinct() {
    let t_env = orders_env();
    let all = orders();
    let orders = t_env.from_path("Orders").unwrap();
    let big = orders
        .filter(col("amount").is_greater_or_equal(lit(7)))
        .select([col("id").as_("big_id"), col("customer").as_("big_customer")]);
    let joined = orders
        .join(&big)
        .where_(col("customer").is_equal(col("big_customer")))
        .select([col("id"), col("big_id")]);
    let mut expected = Vec::new();
    for o in &all {
        for b in all
            .iter()
            .filter(|b| b.amount >= 7 && b.customer == o.customer)
        {
            expected.push(format!("[{}, {}]", o.id, b.id));
        }
    }
    assert_eq!(final_rows(&joined), sorted(expected));

    let left = orders
        .left_outer_join(&big, col("id").is_equal(col("big_id")))
        .select([col("id"), col("big_customer")]);
    let expected = all
        .iter()
        .map(|o| match o.amount >= 7 {
            true => format!("[{}, {}]", o.id, o.customer),
            false => format!("[{}, null]", o.id),
        })
        .collect();
    assert_eq!(final_rows(&left), sorted(expected));

    let customers = orders.select([col("customer")]);
    let union = customers.union_all(&customers);
    let expected = all
        .iter()
        .chain(&all)
        .map(|o| format!("[{}]", o.customer))
        .collect();
    assert_eq!(final_rows(&union), sorted(expected));
    let mut distinct: Vec<String> = all.iter().map(|o| format!("[{}]", o.customer)).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(final_rows(&union.distinct()), distinct);
}

#[test]
fn order_by_time_views_insert_and_explain() {
    let t_env = orders_env();
    let ordered = t_env
        .from_path("Orders")
        .unwrap()
        .order_by([col("order_time").asc()])
        .select([col("id")]);
    let rows: Vec<String> = ordered
        .execute()
        .unwrap()
        .collect()
        .unwrap()
        .into_iter()
        .map(|(_, r)| r.to_string())
        .collect();
    let mut all = orders();
    all.sort_by_key(|o| o.second);
    let expected: Vec<String> = all.iter().map(|o| format!("[{}]", o.id)).collect();
    assert_eq!(rows, expected);

    let small = t_env
        .from_path("Orders")
        .unwrap()
        .filter(col("amount").is_less(lit(6)));
    t_env.create_temporary_view("small_orders", &small).unwrap();
    let via_sql = t_env.sql_query("SELECT id FROM small_orders").unwrap();
    let expected: Vec<String> = orders()
        .iter()
        .filter(|o| o.amount < 6)
        .map(|o| format!("[{}]", o.id))
        .collect();
    assert_eq!(final_rows(&via_sql), sorted(expected.clone()));

    let out = std::env::temp_dir().join(format!("weir-table-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    t_env
        .execute_sql(&format!(
            "CREATE TABLE small_ids (id INT) WITH ('connector' = 'filesystem', 'path' = '{}', \
             'format' = 'csv')",
            out.display()
        ))
        .unwrap();
    via_sql.execute_insert("small_ids").unwrap().wait().unwrap();
    let mut written = Vec::new();
    for file in std::fs::read_dir(&out).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        written.extend(text.lines().map(|l| format!("[{l}]")));
    }
    assert_eq!(sorted(written), sorted(expected));
    let _ = std::fs::remove_dir_all(&out);

    let plan = via_sql.explain().unwrap();
    let mut sql_plan = Vec::new();
    t_env
        .execute_sql(&format!("EXPLAIN {}", via_sql.sql()))
        .unwrap()
        .print_to(&mut sql_plan)
        .unwrap();
    assert_eq!(format!("{plan}\n"), String::from_utf8(sql_plan).unwrap());
    assert!(plan.contains("== Optimized Physical Plan =="), "{plan}");
}

#[test]
fn mistakes_are_clear_errors() {
    let t_env = orders_env();
    let e = t_env
        .from_path("Nope")
        .err()
        .expect("unknown table")
        .to_string();
    assert!(e.contains("Nope"), "{e}");
    let e = t_env
        .from_path("Orders")
        .unwrap()
        .select([col("no_such_column")])
        .resolved_schema()
        .expect_err("unknown column")
        .to_string();
    assert!(e.contains("no_such_column"), "{e}");
    let e = t_env
        .from_path("Orders")
        .unwrap()
        .window(
            Tumble::over(lit(1).seconds())
                .on(col("order_time"))
                .alias("w"),
        )
        .group_by([col("customer")])
        .err()
        .expect("no window alias")
        .to_string();
    assert!(e.contains("'w'"), "{e}");
}

/// Clicks `(user, timestamp_ms)` as a DataStream with event time.
fn clicks() -> Vec<(String, i64)> {
    vec![
        ("alice".into(), 1_000),
        ("bob".into(), 2_000),
        ("alice".into(), 3_500),
        ("alice".into(), 6_000),
        ("bob".into(), 7_000),
        ("carol".into(), 12_000),
        ("alice".into(), 14_000),
    ]
}

fn click_env() -> (StreamExecutionEnvironment, StreamTableEnvironment, Table) {
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(2);
    let t_env = StreamTableEnvironment::create(&env);
    let stream = env
        .from_collection(clicks())
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_bounded_out_of_orderness(std::time::Duration::ZERO)
                .with_timestamp_assigner(|c: &(String, i64), _| Ok(c.1)),
        )
        .map(|(user, _): (String, i64)| Row::of([Datum::from(user)]));
    let table = t_env
        .from_data_stream(
            &stream,
            Schema::new_builder()
                .column("user_name", "STRING")
                .column_by_metadata("rowtime", "TIMESTAMP_LTZ(3)")
                .watermark("rowtime", "SOURCE_WATERMARK()")
                .build(),
        )
        .unwrap();
    (env, t_env, table)
}

#[test]
fn data_stream_to_window_aggregation_and_back_with_event_time() {
    let (env, t_env, table) = click_env();
    t_env.create_temporary_view("clicks", &table).unwrap();
    let counts = t_env
        .sql_query(
            "SELECT user_name, TUMBLE_END(rowtime, INTERVAL '5' SECOND) AS window_end, \
             COUNT(*) AS n FROM clicks GROUP BY TUMBLE(rowtime, INTERVAL '5' SECOND), user_name",
        )
        .unwrap();
    let records = t_env
        .to_data_stream(&counts)
        .unwrap()
        .process(EmitTimestamp)
        .execute_and_collect()
        .unwrap();
    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for (user, ts) in clicks() {
        *expected.entry((user, ts - ts % 5_000 + 5_000)).or_default() += 1;
    }
    let expected: Vec<String> = expected
        .into_iter()
        .map(|((u, end), n)| {
            let clock = match end % 60_000 {
                0 => format!("1970-01-01T00:{:02}", end / 60_000),
                _ => format!("1970-01-01T00:00:{:02}", end / 1000),
            };
            // The window's rowtime (its end minus 1 ms) is not selected, so records carry none.
            format!("[{u}, {clock}, {n}] @ None")
        })
        .collect();
    assert_eq!(sorted(records), sorted(expected));
    drop(env);
}

/// A record as text with its timestamp, to check the timestamps a table gives its records.
#[derive(Clone)]
struct EmitTimestamp;

impl ProcessFunction<Row, String> for EmitTimestamp {
    fn process_element(
        &mut self,
        row: Row,
        ctx: &mut ProcessContext<'_, String>,
    ) -> weir_core::Result<()> {
        let text = format!("{row} @ {:?}", ctx.timestamp());
        ctx.collect(text);
        Ok(())
    }
}

#[test]
fn data_stream_to_updating_aggregation_to_changelog_stream_round_trip() {
    let (env, t_env, table) = click_env();
    let counts = table
        .group_by([col("user_name")])
        .select([col("user_name"), col("user_name").count().as_("n")]);
    let error = t_env
        .to_data_stream(&counts)
        .err()
        .expect("updating")
        .to_string();
    assert!(error.contains("to_changelog_stream"), "{error}");
    // A table over a DataStream runs in the stream's job, not as a job of its own.
    let error = counts.execute().err().expect("own job").to_string();
    assert!(error.contains("reads a DataStream"), "{error}");

    // Per user, a running count whose changes the DataStream applies to a final map.
    let changes = t_env
        .to_changelog_stream(&counts)
        .unwrap()
        .execute_and_collect()
        .unwrap();
    let mut counts_now: BTreeMap<String, i64> = BTreeMap::new();
    for (kind, row) in &changes {
        let (Datum::String(user), Datum::BigInt(n)) = (row.get(0), row.get(1)) else {
            panic!("unexpected row {row}");
        };
        match kind {
            RowKind::Insert | RowKind::UpdateAfter => {
                counts_now.insert(user.clone(), *n);
            }
            RowKind::UpdateBefore | RowKind::Delete => {
                assert_eq!(counts_now.remove(user), Some(*n), "retracts the last count");
            }
        }
    }
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for (user, _) in clicks() {
        *expected.entry(user).or_default() += 1;
    }
    assert_eq!(counts_now, expected);
    assert!(changes.iter().any(|(k, _)| *k == RowKind::UpdateBefore));

    // Event time survives the round trip: the table's rowtime becomes the timestamp of the
    // records of the stream it is turned back into.
    let (env2, t_env2, table2) = click_env();
    let not_bob = table2
        .filter(col("user_name").is_not_equal(lit("bob")))
        .select([col("user_name"), col("rowtime")]);
    let records = t_env2
        .to_data_stream(&not_bob)
        .unwrap()
        .process(EmitTimestamp)
        .execute_and_collect()
        .unwrap();
    let expected: Vec<String> = clicks()
        .into_iter()
        .filter(|(u, _)| u != "bob")
        .map(|(u, t)| {
            let clock = match t % 1000 {
                0 => format!("1970-01-01T00:00:{:02}", t / 1000),
                ms => format!("1970-01-01T00:00:{:02}.{ms:03}", t / 1000),
            };
            format!("[{u}, {clock}] @ Some({t})")
        })
        .collect();
    assert_eq!(sorted(records), sorted(expected));
    drop((env, env2));
}
