//! Helpers shared by the example jobs: where their input lines come from, how a
//! `key,number` line is parsed, and WordCount's tokenizer (also used by `bench/`).

use weir_datastream::prelude::*;

/// The job's input lines, without blank ones: the file or folder `--input PATH`, the socket
/// `--port PORT` (on `--hostname HOST`, default `localhost`; try `nc -lk PORT`), or else the
/// built-in `default` text.
pub fn input_lines(
    env: &StreamExecutionEnvironment,
    params: &ParameterTool,
    default: &str,
) -> Result<DataStream<String>> {
    let lines = match (params.get("input"), params.get_parsed::<u16>("port")?) {
        (Some(path), _) => env.read_text_file(path),
        (None, Some(port)) => {
            env.socket_text_stream(params.get("hostname").unwrap_or("localhost"), port)
        }
        (None, None) => env.from_collection(default.lines().map(String::from).collect()),
    };
    Ok(lines.filter(|line: &String| !line.trim().is_empty()))
}

/// Parses a line `key,number` (spaces around either part are ignored); the error names the
/// line and the expected `format`, as in `'a;1' is not a key,number line`.
pub fn parse_key_number(line: &str, format: &str) -> Result<(String, i64)> {
    line.split_once(',')
        .and_then(|(key, number)| Some((key.trim().to_string(), number.trim().parse().ok()?)))
        .ok_or_else(|| WeirError::user(format!("'{line}' is not a {format} line")))
}

/// WordCount's tokenizer: the lower-case words of a line, each with a count of 1, split on
/// everything but letters, digits and `_` (Flink's `\W+`).
pub fn tokenize(line: String) -> Vec<(String, i64)> {
    line.to_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(|w| (w.to_string(), 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_key_number_lines() {
        assert_eq!(
            parse_key_number(" a , -7", "key,number").unwrap(),
            ("a".to_string(), -7)
        );
        let err = parse_key_number("a;1", "key,number").unwrap_err();
        assert_eq!(err.to_string(), "'a;1' is not a key,number line");
    }
}
