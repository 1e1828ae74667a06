//! The `kafka` and `upsert-kafka` SQL connectors against a real broker (Tansu, one per
//! test): sources in JSON and CSV, bad records, the exactly-once sink across a restart from a
//! checkpoint, and an upsert sink whose compacted topic must equal the final table. Every
//! expectation is computed here from the input, and the topics are written and read back
//! with plain rdkafka clients, not with the connector under test.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use weir_core::config::{options, Configuration};
use weir_sql::{RowKind, StatementResult};

use support::{
    compacted, env_with, insert, json_field, newest_checkpoint, query, TempDir, TestBroker,
};

/// A table over `topic` read from its start to its current end, with `extra` options.
fn source_ddl(name: &str, columns: &str, broker: &TestBroker, topic: &str, extra: &str) -> String {
    format!(
        "CREATE TABLE {name} ({columns}) WITH ('connector' = 'kafka', 'topic' = '{topic}', \
         'properties.bootstrap.servers' = '{}', 'scan.startup.mode' = 'earliest-offset', \
         'scan.bounded.mode' = 'latest-offset'{extra})",
        broker.bootstrap
    )
}

/// The rows of `SELECT * FROM name`, inserts only, sorted.
fn read_sorted(
    env: &mut weir_sql::TableEnvironment,
    name: &str,
) -> Result<Vec<Vec<String>>, String> {
    let mut rows: Vec<Vec<String>> = query(env, &format!("SELECT * FROM {name}"))?
        .into_iter()
        .map(|(kind, values)| {
            assert_eq!(kind, RowKind::Insert);
            values
                .into_iter()
                .map(|v| v.unwrap_or("NULL".into()))
                .collect()
        })
        .collect();
    rows.sort();
    Ok(rows)
}

#[test]
fn json_and_csv_sources_read_every_record() {
    let broker = TestBroker::start();
    broker.create_topic("json_in", 2);
    broker.create_topic("csv_in", 2);
    let input: Vec<(i64, String, i64)> = (0..200)
        .map(|i| (i, format!("name-{i}"), i * 7 % 100))
        .collect();
    let json: Vec<(i32, i64, String)> = input
        .iter()
        .map(|(id, name, n)| {
            (
                (id % 2) as i32,
                *id,
                format!(r#"{{"id":{id},"name":"{name}","n":{n}}}"#),
            )
        })
        .collect();
    let csv: Vec<(i32, i64, String)> = input
        .iter()
        .map(|(id, name, n)| ((id % 2) as i32, *id, format!("{id},{name},{n}")))
        .collect();
    broker.produce_batched("json_in", &json);
    broker.produce_batched("csv_in", &csv);
    let columns = "id BIGINT, name STRING, n BIGINT";
    let mut env = env_with(
        Configuration::new(),
        &[
            &source_ddl("j", columns, &broker, "json_in", ", 'format' = 'json'"),
            &source_ddl("c", columns, &broker, "csv_in", ", 'value.format' = 'csv'"),
        ],
    );
    let mut expected: Vec<Vec<String>> = input
        .iter()
        .map(|(id, name, n)| vec![id.to_string(), name.clone(), n.to_string()])
        .collect();
    expected.sort();
    assert_eq!(read_sorted(&mut env, "j").unwrap(), expected);
    assert_eq!(read_sorted(&mut env, "c").unwrap(), expected);
}

#[test]
fn a_bad_record_fails_the_job_naming_where_it_is_or_is_skipped() {
    let broker = TestBroker::start();
    broker.create_topic("bad_json", 1);
    broker.create_topic("bad_csv", 1);
    let json = ["{\"id\":1}", "{\"id\":2}", "{oops", "{\"id\":4}"];
    let csv = ["1", "2", "3", "four", "5"];
    let records = |lines: &[&str]| -> Vec<(i32, i64, String)> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| (0, i as i64, l.to_string()))
            .collect()
    };
    broker.produce_batched("bad_json", &records(&json));
    broker.produce_batched("bad_csv", &records(&csv));
    let mut env = env_with(
        Configuration::new(),
        &[
            &source_ddl("j", "id BIGINT", &broker, "bad_json", ", 'format' = 'json'"),
            &source_ddl("c", "id BIGINT", &broker, "bad_csv", ", 'format' = 'csv'"),
            &source_ddl(
                "j_lenient",
                "id BIGINT",
                &broker,
                "bad_json",
                ", 'format' = 'json', 'json.ignore-parse-errors' = 'true'",
            ),
            &source_ddl(
                "c_lenient",
                "id BIGINT",
                &broker,
                "bad_csv",
                ", 'value.format' = 'csv', 'value.csv.ignore-parse-errors' = 'true'",
            ),
        ],
    );
    let err = read_sorted(&mut env, "j").unwrap_err();
    assert!(
        err.contains("topic 'bad_json', partition 0, offset 2"),
        "{err}"
    );
    assert!(err.contains("invalid JSON"), "{err}");
    let err = read_sorted(&mut env, "c").unwrap_err();
    assert!(
        err.contains("topic 'bad_csv', partition 0, offset 3"),
        "{err}"
    );
    assert!(err.contains("cannot parse 'four' as BIGINT"), "{err}");

    // A record that is not JSON is skipped; a field that does not parse reads NULL.
    let ids = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(read_sorted(&mut env, "j_lenient").unwrap()),
        ["1", "2", "4"]
    );
    assert_eq!(
        ids(read_sorted(&mut env, "c_lenient").unwrap()),
        ["1", "2", "3", "5", "NULL"]
    );
}

#[test]
fn an_insert_only_kafka_sink_refuses_an_updating_query() {
    let mut env = env_with(
        Configuration::new(),
        &[
            "CREATE TABLE src (k BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10')",
            "CREATE TABLE out (k BIGINT, c BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out', \
             'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json')",
        ],
    );
    let Err(err) = env.execute_sql("INSERT INTO out SELECT k, COUNT(*) FROM src GROUP BY k") else {
        panic!("an updating query was accepted by an insert-only sink");
    };
    let err = err.to_string();
    assert!(
        err.contains("doesn't support consuming update changes"),
        "{err}"
    );
    assert!(err.contains("'kafka'"), "{err}");
}

#[test]
fn exactly_once_output_equals_the_input_after_a_restart_from_a_checkpoint() {
    const ROWS: i64 = 3000;
    let broker = TestBroker::start();
    broker.create_topic("eo_out", 2);
    let checkpoints = TempDir::new("eo-chk");
    let config = || {
        let mut config = Configuration::new();
        config.set_string("parallelism.default", "2");
        config.set_string("execution.checkpointing.interval", "100 ms");
        config.set_string(
            "execution.checkpointing.dir",
            checkpoints.0.display().to_string(),
        );
        config.set_string(
            "execution.checkpointing.externalized-checkpoint-retention",
            "RETAIN_ON_CANCELLATION",
        );
        config
    };
    let ddl = [
        format!(
            "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1500', \
             'fields.id.kind' = 'sequence', 'fields.id.start' = '0', 'fields.id.end' = '{}')",
            ROWS - 1
        ),
        format!(
            "CREATE TABLE out (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'eo_out', \
             'properties.bootstrap.servers' = '{}', 'format' = 'csv', \
             'sink.delivery-guarantee' = 'exactly-once', \
             'sink.transactional-id-prefix' = 'weir-sql-eo')",
            broker.bootstrap
        ),
    ];
    let ddl: Vec<&str> = ddl.iter().map(String::as_str).collect();
    let insert_sql = "INSERT INTO out SELECT id FROM src";

    // The first run is cancelled after some checkpoints completed.
    let mut env = env_with(config(), &ddl);
    let StatementResult::Job(job) = env.execute_sql(insert_sql).unwrap() else {
        panic!("an INSERT runs a job");
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while newest_checkpoint(&checkpoints.0).is_none() {
        assert!(
            Instant::now() < deadline,
            "no checkpoint completed within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    job.cancel();
    let _ = job.wait();
    let before = broker.read_all("eo_out", 2, "read_committed").len() as i64;
    assert!(
        before < ROWS,
        "the first run wrote everything before it was cancelled"
    );

    // The second run starts from the newest checkpoint and finishes.
    let checkpoint = newest_checkpoint(&checkpoints.0).unwrap();
    let mut config = config();
    config.set(&options::SAVEPOINT_PATH, checkpoint.display().to_string());
    let mut env = env_with(config, &ddl);
    insert(&mut env, insert_sql).unwrap();

    let mut got: Vec<i64> = broker
        .read_all("eo_out", 2, "read_committed")
        .into_iter()
        .map(|(_, _, v)| v.parse().unwrap())
        .collect();
    got.sort();
    let expected: Vec<i64> = (0..ROWS).collect();
    assert_eq!(got.len(), expected.len(), "records lost or duplicated");
    assert_eq!(got, expected);
}

#[test]
fn an_upsert_kafka_topic_compacts_to_the_final_table() {
    let broker = TestBroker::start();
    broker.create_topic("events", 2);
    broker.create_topic("histogram", 2);
    // Keys k0..k9 get three events each, in rounds, then k10..k12 one: the histogram of
    // event counts per key loses its counts 1 and 2 on the way (tombstones), and count 1
    // comes back.
    let events: Vec<String> = (0..3)
        .flat_map(|round| (0..if round == 2 { 13 } else { 10 }).map(|k| format!("k{k}")))
        .collect();
    let records: Vec<(i32, i64, String)> = events
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                (i % 2) as i32,
                i as i64,
                format!(r#"{{"k":"{k}","v":{i}}}"#),
            )
        })
        .collect();
    broker.produce("events", &records);
    let mut env = env_with(
        Configuration::new(),
        &[
            &source_ddl(
                "events",
                "k STRING, v BIGINT",
                &broker,
                "events",
                ", 'format' = 'json'",
            ),
            &format!(
                "CREATE TABLE histogram (cnt BIGINT, keys BIGINT, PRIMARY KEY (cnt) NOT ENFORCED) \
                 WITH ('connector' = 'upsert-kafka', 'topic' = 'histogram', \
                 'properties.bootstrap.servers' = '{}', 'key.format' = 'json', \
                 'value.format' = 'json')",
                broker.bootstrap
            ),
        ],
    );
    insert(
        &mut env,
        "INSERT INTO histogram SELECT cnt, COUNT(*) AS keys \
         FROM (SELECT k, COUNT(*) AS cnt FROM events GROUP BY k) GROUP BY cnt",
    )
    .unwrap();

    let mut per_key: BTreeMap<&str, i64> = BTreeMap::new();
    for k in &events {
        *per_key.entry(k).or_default() += 1;
    }
    let mut expected: BTreeMap<i64, i64> = BTreeMap::new();
    for count in per_key.values() {
        *expected.entry(*count).or_default() += 1;
    }

    let written = broker.read_keyed("histogram", 2, "read_uncommitted");
    assert!(
        written.iter().any(|r| r.value.is_none()),
        "no tombstone was written: the test does not cover deletions"
    );
    let got: BTreeMap<i64, i64> = compacted(&written)
        .into_iter()
        .map(|(key, value)| {
            let cnt: i64 = json_field(&key, "cnt").parse().unwrap();
            assert_eq!(json_field(&value, "cnt"), cnt.to_string());
            (cnt, json_field(&value, "keys").parse().unwrap())
        })
        .collect();
    assert_eq!(got, expected);

    // Read back as an upsert-kafka table, the topic is the same table, as a changelog that
    // an aggregation can consume (the sum of the histogram is the number of keys).
    env.execute_sql(&format!(
        "CREATE TABLE histogram_in (cnt BIGINT, keys BIGINT, PRIMARY KEY (cnt) NOT ENFORCED) \
         WITH ('connector' = 'upsert-kafka', 'topic' = 'histogram', \
         'properties.bootstrap.servers' = '{}', 'key.format' = 'json', \
         'value.format' = 'json', 'scan.bounded.mode' = 'latest-offset')",
        broker.bootstrap
    ))
    .unwrap();
    let mut table: BTreeMap<i64, i64> = BTreeMap::new();
    for (kind, row) in query(&mut env, "SELECT * FROM histogram_in").unwrap() {
        let value = |i: usize| row[i].as_deref().unwrap().parse::<i64>().unwrap();
        if kind.is_accumulate() {
            table.insert(value(0), value(1));
        } else {
            assert_eq!(
                table.remove(&value(0)),
                Some(value(1)),
                "{kind:?} of {row:?}"
            );
        }
    }
    assert_eq!(table, expected);
    let total = query(&mut env, "SELECT SUM(keys) FROM histogram_in").unwrap();
    let (kind, last) = total.last().unwrap();
    assert!(kind.is_accumulate());
    assert_eq!(last[0].as_deref(), Some(per_key.len().to_string().as_str()));
}

#[test]
fn event_time_windows_lose_no_record_however_the_partitions_are_read() {
    let broker = TestBroker::start();
    broker.create_topic("clicks", 2);
    // Both partitions cover the same hour of event time: whichever the source reads first,
    // watermarks per partition make no record of the other late.
    const START_MS: i64 = 1_704_067_200_000; // 2024-01-01 00:00:00 UTC
    let clicks: Vec<(i32, String, i64)> = (0..800)
        .map(|i| {
            (
                (i % 2) as i32,
                format!("u{}", i % 3),
                START_MS + (i / 2) * 9_000,
            )
        })
        .collect();
    let records: Vec<(i32, i64, String)> = clicks
        .iter()
        .map(|(partition, user, ms)| {
            let ts = chrono::DateTime::from_timestamp_millis(*ms)
                .unwrap()
                .naive_utc();
            let ts = ts.format("%Y-%m-%d %H:%M:%S%.3f");
            (
                *partition,
                *ms,
                format!(r#"{{"user":"{user}","ts":"{ts}"}}"#),
            )
        })
        .collect();
    broker.produce_batched("clicks", &records);
    let mut env = env_with(
        Configuration::new(),
        &[&source_ddl(
            "clicks",
            "user STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND",
            &broker,
            "clicks",
            ", 'format' = 'json'",
        )],
    );
    let StatementResult::Text(plan) = env.execute_sql("EXPLAIN SELECT * FROM clicks").unwrap()
    else {
        panic!("EXPLAIN returns text");
    };
    assert!(
        !plan.contains("WatermarkAssigner"),
        "the watermark is not generated in the source:\n{plan}"
    );

    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for (_, user, ms) in &clicks {
        let window_start = START_MS + (ms - START_MS) / 600_000 * 600_000;
        *expected.entry((user.clone(), window_start)).or_default() += 1;
    }
    let rows = query(
        &mut env,
        "SELECT `user`, window_start, COUNT(*) AS c \
         FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' MINUTES)) \
         GROUP BY `user`, window_start, window_end",
    )
    .unwrap();
    let got: BTreeMap<(String, i64), i64> = rows
        .into_iter()
        .map(|(kind, row)| {
            assert_eq!(kind, RowKind::Insert);
            let start = chrono::NaiveDateTime::parse_from_str(
                &row[1].clone().unwrap()[..19],
                "%Y-%m-%d %H:%M:%S",
            )
            .unwrap()
            .and_utc()
            .timestamp_millis();
            let count = row[2].as_deref().unwrap().parse().unwrap();
            ((row[0].clone().unwrap(), start), count)
        })
        .collect();
    assert_eq!(got, expected);
}
