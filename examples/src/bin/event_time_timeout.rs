//! Event-time timers, as in Flink's `KeyedProcessFunction` example (`CountWithTimeoutFunction`
//! in the "Process Function" docs): counts the records of each key and prints `(key,count)`
//! when a key has had no record for `--timeout-ms` (default 60 000) of event time. Each
//! record stores the key's count and latest timestamp in a `ValueState` and registers an
//! event-time timer at its timestamp plus the timeout; a timer prints only if no later record
//! of its key came since.
//!
//! ```text
//! weir run event_time_timeout [--input PATH | --port PORT [--hostname HOST]]
//!                             [--timeout-ms 60000] [--out-of-orderness-ms 0]
//! ```
//! Input lines are `key,timestamp_ms`. The watermark trails the highest timestamp by
//! `--out-of-orderness-ms` and follows every record, so the output does not depend on timing;
//! the end of the input fires the remaining timers. Without `--input` or `--port` a built-in
//! example runs and prints `(a,2)` (no `a` between 30 s and 90 s), then at the end `(c,1)`,
//! `(b,3)` and `(a,3)`.

use weir_datastream::prelude::*;
use weir_examples::{input_lines, parse_key_number};

const DEFAULT_INPUT: &str = "a,1000\nb,2000\na,30000\nb,50000\nc,95000\nb,100000\na,120000";

/// Per key `(count, latest timestamp)`; emits `(key,count)` after `timeout_ms` of silence.
#[derive(Clone)]
struct CountWithTimeout {
    state: ValueState<(i64, i64)>,
    timeout_ms: i64,
}

impl KeyedProcessFunction<String, (String, i64), (String, i64)> for CountWithTimeout {
    fn process_element(
        &mut self,
        _record: (String, i64),
        ctx: &mut KeyedContext<'_, String, (String, i64)>,
    ) -> Result<()> {
        let timestamp = ctx
            .timestamp()
            .ok_or_else(|| WeirError::user("a record without timestamp"))?;
        let count = self.state.value(ctx)?.map_or(0, |(count, _)| count) + 1;
        self.state.update(ctx, (count, timestamp))?;
        ctx.register_event_time_timer(timestamp + self.timeout_ms);
        Ok(())
    }

    fn on_timer(
        &mut self,
        timestamp: i64,
        ctx: &mut KeyedContext<'_, String, (String, i64)>,
    ) -> Result<()> {
        if let Some((count, last_modified)) = self.state.value(ctx)? {
            if timestamp == last_modified + self.timeout_ms {
                let key = ctx.current_key().clone();
                ctx.collect((key, count));
            }
        }
        Ok(())
    }
}

/// The watermarks of `for_bounded_out_of_orderness`, emitted right after every record
/// instead of periodically.
struct AfterEveryRecord {
    max_timestamp: i64,
    out_of_orderness_ms: i64,
}

impl<T> WatermarkGenerator<T> for AfterEveryRecord {
    fn on_event(&mut self, _record: &T, timestamp: i64, output: &mut WatermarkOutput) {
        self.max_timestamp = self.max_timestamp.max(timestamp);
        output.emit(Watermark(
            self.max_timestamp
                .saturating_sub(self.out_of_orderness_ms)
                .saturating_sub(1),
        ));
    }

    fn on_periodic_emit(&mut self, _output: &mut WatermarkOutput) {}
}

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let timeout_ms: i64 = params.get_or("timeout-ms", 60_000)?;
        let out_of_orderness_ms: i64 = params.get_or("out-of-orderness-ms", 0)?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        let watermarks = WatermarkStrategy::for_generator(move || AfterEveryRecord {
            max_timestamp: i64::MIN,
            out_of_orderness_ms,
        })
        .with_timestamp_assigner(|(_, timestamp): &(String, i64), _| Ok(*timestamp));
        input_lines(&env, &params, DEFAULT_INPUT)?
            .try_map(|line: String| parse_key_number(&line, "key,timestamp_ms"))
            .name("Parse")
            .assign_timestamps_and_watermarks(watermarks)
            .key_by(|(key, _): &(String, i64)| key.clone())
            .process(CountWithTimeout {
                state: ValueState::new("count with timestamp"),
                timeout_ms,
            })
            .name("Count With Timeout")
            .print();
        env.execute("Event Time Timeout")?;
        Ok(())
    })
}
