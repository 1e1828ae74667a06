//! `weir sql [-f FILE] [--var NAME=VALUE]... [-p N] [-D key=value]...`
//!
//! Flink's SQL client on the embedded mini-cluster: with `-f`, runs the script's statements
//! one by one (`${NAME}` replaced by `--var NAME=VALUE`, as Flink's `run_sql.sh` does) and
//! stops at the first error; without it, reads statements ending in `;` from standard input.
//! Query results are printed as tables with Flink's `op` column as they arrive.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use clap::Args;
use weir_core::config::{self, options};
use weir_sql::runner::run_statement;
use weir_sql::{run_script, TableEnvironment};

/// Arguments of `weir sql`.
#[derive(Args)]
pub struct SqlArgs {
    /// The SQL script to run; without it, statements are read from standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<String>,

    /// Replaces `${NAME}` in the script (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,

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
            // Not `stdout().lock()`: a `print` sink of an INSERT job prints from its task's
            // thread while the script waits for the job.
            run_script(&mut env, &script, &vars, &mut std::io::stdout()).map_err(|e| e.to_string())
        }
        None => interactive(&mut env, &vars),
    }
}

/// Reads statements from standard input; an error is printed and the client goes on.
fn interactive(env: &mut TableEnvironment, vars: &HashMap<String, String>) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    let mut statement = String::new();
    let prompt = |out: &mut std::io::Stdout, continued: bool| {
        let _ = write!(out, "{}", if continued { "> " } else { "Weir SQL> " });
        let _ = out.flush();
    };
    prompt(&mut out, false);
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| format!("reading standard input: {e}"))?;
        statement.push_str(&line);
        statement.push('\n');
        if line.trim_end().ends_with(';') {
            let text = weir_sql::script::substitute_vars(&statement, vars);
            let trimmed = text.trim().trim_end_matches(';').trim();
            if trimmed.eq_ignore_ascii_case("quit") || trimmed.eq_ignore_ascii_case("exit") {
                return Ok(());
            }
            if let Err(e) = run_statement(env, trimmed, &mut out) {
                eprintln!("[ERROR] {e}");
            }
            statement.clear();
        }
        prompt(&mut out, !statement.trim().is_empty());
    }
    Ok(())
}
