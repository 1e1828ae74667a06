//! `weir`: the one binary for every role. Today it has `run`, which starts a job program on
//! the embedded mini-cluster, and `sql`, Flink's SQL client.

mod run;
mod sql;
mod sql_input;

use clap::{Parser, Subcommand};

/// Weir: a stream processor with Flink's APIs.
#[derive(Parser)]
#[command(name = "weir", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a job program on the embedded mini-cluster.
    Run(run::RunArgs),
    /// Runs SQL statements: a script (-f) or interactively.
    Sql(sql::SqlArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Sql(args) => sql::sql(args),
    };
    std::process::exit(code);
}
