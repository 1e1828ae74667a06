//! Flink's `SessionWindowing` example, adapted: clicks `user,timestamp_ms` are grouped per
//! user into event-time session windows that close after `--gap-ms` (default 3000) without a
//! click, and each session prints `(user,session_start,session_end,clicks)`, where the end is
//! the last click + the gap.
//!
//! ```text
//! weir run session_window [--input PATH | --port PORT [--hostname HOST]] [--gap-ms 3000]
//! ```
//! The timestamps must be ascending (per source subtask): the watermark follows the highest
//! timestamp, and a click older than the watermark would be late and dropped. Without
//! `--input` or `--port` the built-in clicks of Flink's example (in seconds instead of
//! milliseconds) print `(a,1000,4000,1)`, `(b,1000,8000,3)`, `(c,6000,9000,1)`,
//! `(a,10000,13000,1)` and `(c,11000,14000,1)`, in some order.

use std::time::Duration;

use weir_datastream::prelude::*;
use weir_examples::{input_lines, parse_key_number};

const DEFAULT_INPUT: &str = "\
a,1000
b,1000
b,3000
b,5000
c,6000
a,10000
c,11000";

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let gap_ms: u64 = params.get_or("gap-ms", 3_000)?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        let watermarks = WatermarkStrategy::for_monotonous_timestamps()
            .with_timestamp_assigner(|(_, timestamp, _): &(String, i64, i64), _| Ok(*timestamp));
        input_lines(&env, &params, DEFAULT_INPUT)?
            .try_map(|line: String| {
                let (user, timestamp) = parse_key_number(&line, "user,timestamp_ms")?;
                Ok((user, timestamp, 1i64))
            })
            .name("Parse")
            .assign_timestamps_and_watermarks(watermarks)
            .key_by(|(user, _, _): &(String, i64, i64)| user.clone())
            .window(EventTimeSessionWindows::with_gap(Duration::from_millis(gap_ms)))
            .reduce_with(
                |(user, timestamp, a), (_, _, b)| (user, timestamp, a + b),
                |user: &String,
                 sums: Vec<(String, i64, i64)>,
                 ctx: &mut WindowContext<'_, String, TimeWindow, (String, i64, i64, i64)>| {
                    let session = ctx.window();
                    for (_, _, clicks) in sums {
                        ctx.collect((user.clone(), session.start, session.end, clicks));
                    }
                    Ok(())
                },
            )
            .print();
        env.execute("Session Windowing")?;
        Ok(())
    })
}
