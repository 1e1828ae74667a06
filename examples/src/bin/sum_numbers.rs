//! Sums the numbers in a text file, one per line. A line that is not a number fails the job
//! with an error that names the operator and the value: the example of how Weir reports bad
//! input.
//!
//! ```text
//! weir run sum_numbers --input numbers.txt
//! ```

use weir_datastream::prelude::*;

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        env.read_text_file(params.get_required("input")?)
            .try_map(|line: String| {
                line.trim()
                    .parse::<i64>()
                    .map_err(|_| WeirError::user(format!("'{line}' is not a whole number")))
            })
            .name("Parse")
            .key_by(|_: &i64| ())
            .reduce(|a, b| a + b)
            .name("Sum")
            .print();
        env.execute("Sum Numbers")?;
        Ok(())
    })
}
