//! `ValueState`, as in the seed notes' `RichMapFunction` example: for each key, prints the
//! difference between each number and the key's previous number, which a `ValueState` keeps;
//! a key's first number is printed as it is. `18, 20, 25, 28` under one key prints
//! `(key,18)`, `(key,2)`, `(key,5)`, `(key,3)`.
//!
//! ```text
//! weir run state_difference [--input PATH | --port PORT [--hostname HOST]]
//! ```
//! Input lines are `key,number`; without `--input` or `--port` a built-in example runs. A line
//! of another shape fails the job with a message naming it.

use weir_datastream::prelude::*;
use weir_examples::{input_lines, parse_key_number};

const DEFAULT_INPUT: &str = "key,18\nkey,20\nother,5\nkey,25\nother,3\nkey,28";

/// Emits each number minus the key's previous one (the number itself for the first).
#[derive(Clone)]
struct Difference {
    previous: ValueState<i64>,
}

impl KeyedProcessFunction<String, (String, i64), (String, i64)> for Difference {
    fn process_element(
        &mut self,
        (key, number): (String, i64),
        ctx: &mut KeyedContext<'_, String, (String, i64)>,
    ) -> Result<()> {
        let difference = match self.previous.value(ctx)? {
            Some(previous) => number - previous,
            None => number,
        };
        self.previous.update(ctx, number)?;
        ctx.collect((key, difference));
        Ok(())
    }
}

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        input_lines(&env, &params, DEFAULT_INPUT)?
            .try_map(|line: String| parse_key_number(&line, "key,number"))
            .name("Parse")
            .key_by(|(key, _): &(String, i64)| key.clone())
            .process(Difference {
                previous: ValueState::new("previous"),
            })
            .name("Difference")
            .print();
        env.execute("State Difference")?;
        Ok(())
    })
}
