//! Sources and sinks: the generator's count and rate, sockets, text files in and out, the
//! print format, cancellation of unbounded jobs, and metrics in the job result.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{env, TempDir};
use weir_datastream::prelude::*;

#[test]
fn generator_emits_its_count_at_its_rate() {
    let env = env(2);
    let started = Instant::now();
    let out = env
        .from_generator(|i| i * 2, Some(300), Some(600.0))
        .execute_and_collect()
        .unwrap();
    let elapsed = started.elapsed();
    let mut sorted = out.clone();
    sorted.sort();
    assert_eq!(sorted, (0..300).map(|i| i * 2).collect::<Vec<u64>>());
    // 300 records at 600/s take half a second, released in steps of 1/20 s.
    assert!(
        elapsed >= Duration::from_millis(400),
        "too fast: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "too slow: {elapsed:?}");
}

#[test]
fn sequence_covers_the_range_once() {
    let env = env(3);
    let mut out = env.from_sequence(-5, 994).execute_and_collect().unwrap();
    out.sort();
    assert_eq!(out, (-5..=994).collect::<Vec<i64>>());
}

#[test]
fn socket_lines_arrive_until_the_peer_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        for i in 0..50 {
            write!(conn, "line {i}\r\n").unwrap();
            if i % 10 == 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        write!(conn, "last without newline").unwrap();
    });
    let env = env(1);
    let out = env
        .socket_text_stream("127.0.0.1", port)
        .execute_and_collect()
        .unwrap();
    server.join().unwrap();
    let mut expected: Vec<String> = (0..50).map(|i| format!("line {i}")).collect();
    expected.push("last without newline".into());
    assert_eq!(out, expected);
}

#[test]
fn text_file_sink_writes_one_file_or_one_per_subtask() {
    let dir = TempDir::new("textsink");
    let single = dir.path("single.txt");
    let env = env(1);
    env.from_collection(vec![("a".to_string(), 1i64), ("b".to_string(), 2)])
        .write_as_text(&single);
    env.execute("single").unwrap();
    assert_eq!(std::fs::read_to_string(&single).unwrap(), "(a,1)\n(b,2)\n");

    let folder = dir.path("many");
    let env = common::env(3);
    env.from_sequence(1, 999).write_as_text(&folder);
    env.execute("many").unwrap();
    let mut lines: Vec<i64> = Vec::new();
    for i in 1..=3 {
        let text = std::fs::read_to_string(folder.join(i.to_string())).unwrap();
        lines.extend(text.lines().map(|l| l.parse::<i64>().unwrap()));
    }
    lines.sort();
    assert_eq!(lines, (1..=999).collect::<Vec<_>>());
}

#[test]
fn cancelling_an_unbounded_job_ends_it_quickly() {
    let env = env(2);
    env.from_generator(|i| i, None, Some(1000.0))
        .map(|x: u64| x + 1)
        .sink_to(|_: Vec<u64>| Ok(()), "discard");
    let handle = env.execute_async("unbounded").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    handle.cancel();
    assert!(matches!(handle.wait(), Err(WeirError::Cancelled)));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        started.elapsed()
    );
}

#[test]
fn the_result_counts_records_per_operator() {
    let env = env(2);
    env.from_sequence(1, 1000)
        .filter(|x: &i64| x % 4 == 0)
        .name("quarter")
        .map(|x: i64| x)
        .rebalance()
        .sink_to(|_: Vec<i64>| Ok(()), "discard");
    let result = env.execute("counted").unwrap();
    let totals = result.operator_totals();
    let find = |name: &str| totals.iter().find(|(n, ..)| n == name).cloned().unwrap();
    assert_eq!(find("quarter"), ("quarter".to_string(), 1000, 250));
    assert_eq!(find("Sink: discard").1, 250);
    assert_eq!(result.metrics.len(), 4, "two chains of two subtasks");
    let sink_tasks: u64 = result
        .metrics
        .iter()
        .filter(|t| t.vertex.contains("discard"))
        .map(|t| t.num_records_in)
        .sum();
    assert_eq!(sink_tasks, 250, "numRecordsIn of the sink tasks");
}
