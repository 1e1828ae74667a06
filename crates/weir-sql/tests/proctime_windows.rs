//! Windows on a processing-time attribute (`pt AS PROCTIME()`) fire when the wall clock
//! passes their end, while the source is still running: the window TVFs and the legacy group
//! windows over an unbounded datagen table. (Over a bounded table they also fire at the end of
//! the input, as in Flink; the golden tests cannot hold those results, which depend on the
//! clock.)

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow::array::{Array, Int64Array, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use weir_core::config::Configuration;
use weir_sql::{StatementResult, TableEnvironment};

/// An unbounded table: 200 rows per second, each with its processing time.
const CLICKS: &str = "CREATE TABLE clicks (v BIGINT, pt AS PROCTIME()) WITH \
     ('connector' = 'datagen', 'rows-per-second' = '200')";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// A fired window: its start and end, the count, and the wall clock when it arrived.
#[derive(Debug)]
struct Fired {
    start: i64,
    end: i64,
    count: i64,
    arrived: i64,
}

/// Runs `query` (selecting the window start, the window end and a count) over [`CLICKS`]
/// until `windows` windows have fired, then cancels it.
fn first_windows(query: &str, windows: usize) -> Vec<Fired> {
    let mut env = TableEnvironment::new(Configuration::new());
    env.execute_sql(CLICKS).unwrap();
    let StatementResult::Query(result) = env.execute_sql(query).unwrap() else {
        panic!("a query returns rows");
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut fired = Vec::new();
    while fired.len() < windows {
        let batch = result
            .rows
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("windows fire while the source runs");
        let arrived = now_ms();
        let time = |i: usize| {
            let c = cast(
                batch.rows.column(i),
                &DataType::Timestamp(TimeUnit::Millisecond, None),
            )
            .unwrap();
            let c = c.as_any().downcast_ref::<TimestampMillisecondArray>();
            c.unwrap().clone()
        };
        let (starts, ends) = (time(0), time(1));
        let counts = cast(batch.rows.column(2), &DataType::Int64).unwrap();
        let counts = counts.as_any().downcast_ref::<Int64Array>().unwrap();
        for r in 0..batch.rows.num_rows() {
            assert!(batch.kind(r).is_accumulate(), "window results are inserts");
            fired.push(Fired {
                start: starts.value(r),
                end: ends.value(r),
                count: counts.value(r),
                arrived,
            });
        }
    }
    result.job.cancel();
    fired
}

/// Each window is one second long and aligned, follows the one before, holds rows, and fired
/// once the wall clock reached its last millisecond (and not long after).
fn check_seconds(fired: &[Fired]) {
    for (i, w) in fired.iter().enumerate() {
        assert_eq!(w.end - w.start, 1000, "{w:?}");
        assert_eq!(w.start % 1000, 0, "{w:?}");
        assert!(w.count > 0, "{w:?}");
        // Its last millisecond is `end - 1`: the timer is set for then, as in Flink.
        assert!(w.arrived >= w.end - 1, "fired before its end: {w:?}");
        assert!(w.arrived < w.end + 5000, "fired late: {w:?}");
        if i > 0 {
            assert_eq!(w.start, fired[i - 1].end, "{fired:?}");
        }
    }
}

#[test]
fn tumble_tvf_on_processing_time_fires_by_the_clock() {
    let fired = first_windows(
        "SELECT window_start, window_end, COUNT(*) AS n FROM \
         TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(pt), INTERVAL '1' SECOND)) \
         GROUP BY window_start, window_end",
        3,
    );
    check_seconds(&fired);
}

#[test]
fn legacy_tumble_group_window_on_processing_time_fires_by_the_clock() {
    let fired = first_windows(
        "SELECT TUMBLE_START(pt, INTERVAL '1' SECOND), TUMBLE_END(pt, INTERVAL '1' SECOND), \
         COUNT(*) FROM clicks GROUP BY TUMBLE(pt, INTERVAL '1' SECOND)",
        3,
    );
    check_seconds(&fired);
}

#[test]
fn session_windows_on_processing_time_are_refused() {
    let mut env = TableEnvironment::new(Configuration::new());
    env.execute_sql(CLICKS).unwrap();
    let err = env
        .execute_sql(
            "SELECT SESSION_START(pt, INTERVAL '1' SECOND), COUNT(*) FROM clicks \
             GROUP BY SESSION(pt, INTERVAL '1' SECOND)",
        )
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("processing-time attribute"), "{err}");
}
