//! WordCount: counts the words of a text file (or folder), as Flink's WordCount example.
//!
//! ```text
//! weir run wordcount [--input PATH] [--output PATH] [--execution-mode streaming|batch]
//! ```
//! In streaming mode (the default) every count update is printed as `(word,count)`; with
//! `--execution-mode batch` (or `--final`) only the final count of each word. Without
//! `--input` a built-in text is counted.

use weir_datastream::prelude::*;
use weir_examples::tokenize;

const DEFAULT_TEXT: &str = "To be, or not to be,--that is the question:--
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune
Or to take arms against a sea of troubles,
And by opposing end them?--To die,--to sleep,--
No more; and by a sleep to say we end
The heartache, and the thousand natural shocks
That flesh is heir to,--'tis a consummation
Devoutly to be wish'd. To die,--to sleep;--";

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        let batch = params.has("final")
            || params
                .get("execution-mode")
                .is_some_and(|m| m.eq_ignore_ascii_case("batch"));
        if batch {
            env.configure("execution.runtime-mode", "BATCH");
        }
        let text = match params.get("input") {
            Some(path) => env.read_text_file(path),
            None => env.from_collection(DEFAULT_TEXT.lines().map(String::from).collect()),
        };
        let counts = text
            .flat_map(tokenize)
            .name("tokenizer")
            .key_by(|(word, _): &(String, i64)| word.clone())
            .sum(1)
            .name("counter");
        match params.get("output") {
            Some(path) => counts.write_as_text(path),
            None => counts.print(),
        };
        env.execute("WordCount")?;
        Ok(())
    })
}
