//! Streaming word count over a socket: every line typed into `nc -lk 9999` updates the
//! counts of its words, printed as `(word,count)`.
//!
//! ```text
//! nc -lk 9999                                  # in one terminal
//! weir run socket_wordcount --port 9999        # in another; Ctrl-C stops it
//! ```

use weir_datastream::prelude::*;

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let host = params.get("hostname").unwrap_or("localhost").to_string();
        let port: u16 = params.get_parsed("port")?.ok_or_else(|| {
            WeirError::Config("missing --port: start `nc -lk 9999` and pass --port 9999".into())
        })?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        env.socket_text_stream(&host, port)
            .flat_map(|line: String| {
                line.split_whitespace()
                    .map(|w| (w.to_string(), 1i64))
                    .collect::<Vec<_>>()
            })
            .key_by(|(word, _): &(String, i64)| word.clone())
            .sum(1)
            .print();
        env.execute("Socket WordCount")?;
        Ok(())
    })
}
