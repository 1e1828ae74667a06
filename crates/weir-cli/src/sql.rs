//! `weir sql [-f FILE] [--var NAME=VALUE]... [-p N] [-D key=value]...`
//!
//! Flink's SQL client on the embedded mini-cluster: with `-f`, runs the script's statements
//! one by one (`${NAME}` replaced by `--var NAME=VALUE`, as Flink's `run_sql.sh` does) and
//! stops at the first error; without it, reads statements ending in `;` from standard input
//! (on a terminal with line editing and a history, `--history FILE`).
//! Query results are printed as tables with Flink's `op` column as they arrive.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use weir_core::config::{self, options};
use weir_sql::runner::run_statement;
use weir_sql::{run_script, TableEnvironment};

use crate::sql_input::{Input, LineReader};

/// Arguments of `weir sql`.
#[derive(Args)]
pub struct SqlArgs {
    /// The SQL script to run; without it, statements are read from standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<String>,

    /// Replaces `${NAME}` in the script (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,

    /// The file that keeps the interactive client's statements (default
    /// `~/.weir-sql-history`).
    #[arg(long = "history", value_name = "FILE")]
    history: Option<PathBuf>,

    /// Default parallelism of the jobs.
    #[arg(short = 'p', long = "parallelism")]
    parallelism: Option<usize>,

    /// A configuration property, as in config.yaml (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    properties: Vec<String>,
}

/// Runs the SQL client and returns the exit code for `weir`.
pub fn sql(args: SqlArgs) -> i32 {
    match run(&args) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("[ERROR] {message}");
            1
        }
    }
}

fn run(args: &SqlArgs) -> Result<(), String> {
    let mut config = config::load_default().map_err(|e| e.to_string())?;
    for property in &args.properties {
        config
            .apply_dynamic_property(property)
            .map_err(|e| e.to_string())?;
    }
    if let Some(p) = args.parallelism {
        config.set(&options::PARALLELISM_DEFAULT, p.max(1));
    }
    let vars: HashMap<String, String> = args
        .vars
        .iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("--var expects NAME=VALUE, not '{v}'"))
        })
        .collect::<Result<_, _>>()?;
    let mut env = TableEnvironment::new(config);
    match &args.file {
        Some(file) => {
            let script =
                std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
            // Not `stdout().lock()`: a `print` sink's tasks write to standard output while a
            // statement's job runs, and would wait for the lock forever.
            let mut out = std::io::stdout();
            run_script(&mut env, &script, &vars, &mut out).map_err(|e| e.to_string())
        }
        None => interactive(&mut env, &vars, history_file(args)),
    }
}

/// Reads statements ending in `;` from standard input (with line editing and history on a
/// terminal); an error is printed and the client goes on; `quit;`, `exit;` or Ctrl-D ends it.
fn interactive(
    env: &mut TableEnvironment,
    vars: &HashMap<String, String>,
    history: Option<PathBuf>,
) -> Result<(), String> {
    let mut reader = LineReader::open(history)?;
    let mut out = std::io::stdout();
    let mut statement = String::new();
    loop {
        let prompt = if statement.trim().is_empty() {
            "Weir SQL> "
        } else {
            "> "
        };
        let line = match reader.read(prompt)? {
            Input::Line(line) => line,
            Input::Cancel => {
                statement.clear();
                continue;
            }
            Input::End => return Ok(()),
        };
        statement.push_str(&line);
        statement.push('\n');
        if !line.trim_end().ends_with(';') {
            continue;
        }
        reader.remember(statement.trim());
        let text = weir_sql::script::substitute_vars(&statement, vars);
        statement.clear();
        let trimmed = text.trim().trim_end_matches(';').trim();
        if trimmed.eq_ignore_ascii_case("quit") || trimmed.eq_ignore_ascii_case("exit") {
            return Ok(());
        }
        if let Err(e) = run_statement(env, trimmed, &mut out) {
            eprintln!("[ERROR] {e}");
        }
    }
}

/// `--history`, else `~/.weir-sql-history` (none without a home directory).
fn history_file(args: &SqlArgs) -> Option<PathBuf> {
    args.history.clone().or_else(|| {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".weir-sql-history"))
    })
}
