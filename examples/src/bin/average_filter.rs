//! `ListState`, as in the seed notes' `RichFilterFunction` example: for each key, keeps every
//! number seen in a `ListState` and lets a number through if it differs from the (integer)
//! average of all the key's numbers, itself included, by more than `--threshold` (default
//! 5); a key's first number always passes. `18, 20, 25, 36` under one key prints `(key,18)`
//! and `(key,36)`: 20, 25 and 36 are compared with the averages 19, 21 and 24.
//!
//! ```text
//! weir run average_filter [--input PATH | --port PORT [--hostname HOST]] [--threshold 5]
//! ```
//! Input lines are `key,number`; without `--input` or `--port` a built-in example runs.

use weir_datastream::prelude::*;
use weir_examples::{input_lines, parse_key_number};

const DEFAULT_INPUT: &str = "key,18\nkey,20\nother,1\nkey,25\nother,30\nkey,36";

/// Passes the numbers far from their key's running average.
#[derive(Clone)]
struct AverageFilter {
    numbers: ListState<i64>,
    threshold: i64,
}

impl KeyedProcessFunction<String, (String, i64), (String, i64)> for AverageFilter {
    fn process_element(
        &mut self,
        (key, number): (String, i64),
        ctx: &mut KeyedContext<'_, String, (String, i64)>,
    ) -> Result<()> {
        let mut numbers = self.numbers.get(ctx)?;
        self.numbers.add(ctx, number)?;
        numbers.push(number);
        let average = numbers.iter().sum::<i64>() / numbers.len() as i64;
        if numbers.len() == 1 || (number - average).abs() > self.threshold {
            ctx.collect((key, number));
        }
        Ok(())
    }
}

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let threshold = params.get_or("threshold", 5)?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        input_lines(&env, &params, DEFAULT_INPUT)?
            .try_map(|line: String| parse_key_number(&line, "key,number"))
            .name("Parse")
            .key_by(|(key, _): &(String, i64)| key.clone())
            .process(AverageFilter {
                numbers: ListState::new("numbers"),
                threshold,
            })
            .name("Average Filter")
            .print();
        env.execute("Average Filter")?;
        Ok(())
    })
}
