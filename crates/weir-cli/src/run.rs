//! `weir run [-p N] [-s PATH [-n]] [-D key=value]... PROGRAM [ARGS]...`
//!
//! A Rust DataStream job is a program that links Weir. `weir run` checks the options, then
//! becomes the program (exec: same process, so signals reach the job) with the `-D`
//! properties in the environment variable the DataStream API reads: `-p` as
//! `parallelism.default` (which ranks above `config.yaml` and below what the program sets
//! itself), `-s` as `execution.savepoint.path` (start from that savepoint or retained
//! checkpoint) and `-n` as `execution.savepoint.ignore-unclaimed-state`, as in Flink. PROGRAM
//! is a path, or the name of a program next to the `weir` binary (the bundled examples:
//! `weir run wordcount`).

use std::path::PathBuf;
use std::process::Command;

use clap::Args;
use weir_core::config::{options, Configuration};

/// The variable through which the job receives its properties (one `key=value` per line).
const DYNAMIC_PROPERTIES_ENV: &str = "WEIR_DYNAMIC_PROPERTIES";

/// Arguments of `weir run`.
#[derive(Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Default parallelism of the job's operators.
    #[arg(short = 'p', long = "parallelism")]
    parallelism: Option<usize>,

    /// Start from this savepoint or retained checkpoint (a `chk-<n>` or savepoint directory).
    #[arg(short = 's', long = "fromSavepoint", value_name = "PATH")]
    from_savepoint: Option<String>,

    /// With -s: skip state of operators that are no longer in the job.
    #[arg(
        short = 'n',
        long = "allowNonRestoredState",
        requires = "from_savepoint"
    )]
    allow_non_restored_state: bool,

    /// A configuration property, as in config.yaml (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    properties: Vec<String>,

    /// The job program: a path, or the name of a program installed next to `weir`.
    program: String,

    /// Arguments for the job program.
    #[arg(allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Runs the job and returns the exit code for `weir`.
pub fn run(args: RunArgs) -> i32 {
    match prepare(&args) {
        Ok((program, properties)) => launch(&program, &args.args, &properties),
        Err(message) => {
            eprintln!("Error: {message}");
            1
        }
    }
}

/// Validates the options and finds the program.
fn prepare(args: &RunArgs) -> Result<(PathBuf, Vec<String>), String> {
    let mut properties = args.properties.clone();
    if let Some(p) = args.parallelism {
        if p == 0 {
            return Err("the parallelism (-p) must be at least 1".into());
        }
        properties.push(format!("{}={p}", options::PARALLELISM_DEFAULT.key));
    }
    if let Some(path) = &args.from_savepoint {
        properties.push(format!("{}={path}", options::SAVEPOINT_PATH.key));
    }
    if args.allow_non_restored_state {
        properties.push(format!(
            "{}=true",
            options::SAVEPOINT_IGNORE_UNCLAIMED_STATE.key
        ));
    }
    let mut config = Configuration::new();
    for property in &properties {
        config
            .apply_dynamic_property(property)
            .map_err(|e| e.to_string())?;
    }
    // Unknown keys only warn; the job warns about them itself.
    config.validate().map_err(|e| e.to_string())?;
    Ok((find_program(&args.program)?, properties))
}

fn find_program(name: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(name);
    if path.is_file() {
        return std::fs::canonicalize(&path)
            .map_err(|e| format!("cannot use the job program '{name}': {e}"));
    }
    let beside_weir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .filter(|p| p.is_file() && !name.contains('/'));
    beside_weir.ok_or_else(|| format!("cannot find the job program '{name}': no such file, and no program of that name next to weir"))
}

/// Replaces this process with the job program; returns only if it cannot start.
fn launch(program: &PathBuf, args: &[String], properties: &[String]) -> i32 {
    use std::os::unix::process::CommandExt;
    let error = Command::new(program)
        .args(args)
        .env(DYNAMIC_PROPERTIES_ENV, properties.join("\n"))
        .exec();
    eprintln!(
        "Error: cannot start the job program '{}': {error}",
        program.display()
    );
    1
}
