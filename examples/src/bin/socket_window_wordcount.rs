//! Flink's `SocketWindowWordCount`: counts the words of the lines read from a socket in
//! tumbling processing-time windows of 5 seconds and prints `(word,count)` for every word of
//! every window when the window ends.
//!
//! ```text
//! nc -lk 9999                                                        # in one terminal
//! weir run socket_window_wordcount [--hostname localhost] --port 9999   # in another
//! ```
//! Words are separated by whitespace. Type lines into `nc`; each 5 s (aligned to the epoch,
//! as in Flink) the counts of the words typed in those 5 s appear. Ctrl-C stops the job. As in
//! Flink, when the socket closes the job ends without firing the window still open, so words
//! typed in its last seconds are not counted.

use std::time::Duration;

use weir_datastream::prelude::*;

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let hostname = params.get("hostname").unwrap_or("localhost").to_string();
        let port: u16 = params.get_parsed("port")?.ok_or_else(|| {
            WeirError::Config(
                "no port specified: run `weir run socket_window_wordcount --hostname <hostname> \
                 --port <port>`, where hostname (localhost by default) and port are the address \
                 of the text server; to start a simple text server, run `nc -lk <port>`"
                    .into(),
            )
        })?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        env.socket_text_stream(&hostname, port)
            .flat_map(|line: String| {
                line.split_whitespace()
                    .map(|word| (word.to_string(), 1i64))
                    .collect::<Vec<_>>()
            })
            .name("Split")
            .key_by(|(word, _): &(String, i64)| word.clone())
            .window(TumblingProcessingTimeWindows::of(Duration::from_secs(5)))
            .reduce(|(word, a), (_, b)| (word, a + b))
            .print()
            .set_parallelism(1);
        env.execute("Socket Window WordCount")?;
        Ok(())
    })
}
