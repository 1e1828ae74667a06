//! Exactly-once sums: a generated stream, summed per key and one-second event-time window,
//! written to part files by the exactly-once file sink. Event `i` (of `--events`, generated
//! at `--rate` per second) has key `i % 7`, timestamp `i` ms and value `i`; every window
//! writes the line `(key,window,sum)`.
//!
//! ```text
//! weir run exactly_once_sums --output DIR [--events 200000] [--rate 50000]
//!     [-D execution.checkpointing.interval=1s -D execution.checkpointing.dir=file:///...]
//! ```
//! With checkpointing on, the part files become visible (finished) when the checkpoint after
//! them completes; kill the job, start it again with `weir run -s <chk dir>` and the finished
//! files hold every window exactly once. Operators carry uids, so that state finds its way
//! back to them.

use std::time::Duration;

use weir_datastream::prelude::*;
use weir_datastream::sinks::file::RollingPolicy;
use weir_datastream::sinks::FileSink;

/// Number of keys.
const KEYS: u64 = 7;

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let output = params.get_required("output")?;
        let events: u64 = params.get_or("events", 200_000)?;
        let rate: f64 = params.get_or("rate", 50_000.0)?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        let sink = FileSink::for_row_format(output)
            .with_bucket_assigner(|_: &(u64, u64, u64), _| String::new())
            .with_rolling_policy(RollingPolicy::default().with_max_part_size(64 << 10));
        env.from_generator(|i| (i % KEYS, i / 1_000, i), Some(events), Some(rate))
            .uid("events")
            .assign_timestamps_and_watermarks(
                WatermarkStrategy::for_monotonous_timestamps()
                    .with_timestamp_assigner(|e: &(u64, u64, u64), _| Ok(e.2 as i64)),
            )
            .uid("timestamps")
            .key_by(|e: &(u64, u64, u64)| e.0)
            .window(TumblingEventTimeWindows::of(Duration::from_secs(1)))
            .reduce(|a, b| (a.0, a.1, a.2 + b.2))
            .uid("sums")
            .sink_to(sink, "Part Files")
            .uid("files");
        env.execute("Exactly-once sums")?;
        Ok(())
    })
}
