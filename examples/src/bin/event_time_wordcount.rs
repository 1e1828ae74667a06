//! A word count in tumbling event-time windows: input lines `word,timestamp_ms,count` say
//! that `word` occurred `count` times at `timestamp_ms`. The timestamps may be up to 1 s out
//! of order (`WatermarkStrategy::for_bounded_out_of_orderness`); every window of
//! `--window-ms` (default 5000, aligned to the epoch) prints per word
//! `(word,window_start,window_end,count)` once the watermark passes its end.
//!
//! ```text
//! weir run event_time_wordcount [--input PATH | --port PORT [--hostname HOST]]
//!                               [--window-ms 5000]
//! ```
//! Without `--input` or `--port` a built-in example runs: `(hello,0,5000,4)`,
//! `(world,0,5000,1)`, `(hello,5000,10000,1)`, `(weir,5000,10000,2)` (in some order; the
//! line `hello,4500,1` arrives after `weir,5200,1` but within the bound, so it is counted).
//! At the end of a bounded input the watermark jumps to the end of time and all remaining
//! windows fire. A line that is not `word,timestamp_ms,count` fails the job with a message
//! that quotes it; records more than 1 s late are dropped, as in Flink.

use std::time::Duration;

use weir_datastream::prelude::*;
use weir_examples::input_lines;

const DEFAULT_INPUT: &str = "\
hello,1000,1
world,1200,1
hello,3000,2
weir,5200,1
hello,4500,1
hello,7000,1
weir,9999,1";

/// Parses `word,timestamp_ms,count`.
fn parse(line: &str) -> Result<(String, i64, i64)> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if let [word, timestamp, count] = fields[..] {
        if let (false, Ok(timestamp), Ok(count)) =
            (word.is_empty(), timestamp.parse(), count.parse())
        {
            return Ok((word.to_string(), timestamp, count));
        }
    }
    Err(WeirError::user(format!(
        "'{line}' is not a word,timestamp_ms,count line"
    )))
}

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let window_ms: u64 = params.get_or("window-ms", 5_000)?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        let watermarks = WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(1))
            .with_timestamp_assigner(|(_, timestamp, _): &(String, i64, i64), _| Ok(*timestamp));
        input_lines(&env, &params, DEFAULT_INPUT)?
            .try_map(|line: String| parse(&line))
            .name("Parse")
            .assign_timestamps_and_watermarks(watermarks)
            .key_by(|(word, _, _): &(String, i64, i64)| word.clone())
            .window(TumblingEventTimeWindows::of(Duration::from_millis(window_ms)))
            .reduce_with(
                |(word, timestamp, a), (_, _, b)| (word, timestamp, a + b),
                |word: &String,
                 sums: Vec<(String, i64, i64)>,
                 ctx: &mut WindowContext<'_, String, TimeWindow, (String, i64, i64, i64)>| {
                    let window = ctx.window();
                    for (_, _, count) in sums {
                        ctx.collect((word.clone(), window.start, window.end, count));
                    }
                    Ok(())
                },
            )
            .print();
        env.execute("Event Time WordCount")?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_lines_and_quotes_bad_ones() {
        assert_eq!(parse("a, 5 ,2").unwrap(), ("a".to_string(), 5, 2));
        for bad in ["a,5", "a,x,1", ",5,1", "a,1,2,3"] {
            let err = parse(bad).unwrap_err().to_string();
            assert_eq!(
                err,
                format!("'{bad}' is not a word,timestamp_ms,count line")
            );
        }
    }
}
