//! Runs SQL scripts as `weir sql -f` does: statement by statement, printing each result as
//! Flink's SQL client does; a query's rows are printed as they arrive, INSERT jobs are waited
//! for.

use std::collections::HashMap;
use std::io::Write;

use crate::error::{Result, SqlError};
use crate::script::{split_statements, substitute_vars};
use crate::session::{StatementResult, TableEnvironment};
use crate::tableau::{print_table, StreamingTable};

/// Runs every statement of `script` (after `${NAME}` substitution from `vars`), writing results
/// to `out`; stops at the first failing statement, with its position in the script.
pub fn run_script(
    env: &mut TableEnvironment,
    script: &str,
    vars: &HashMap<String, String>,
    out: &mut dyn Write,
) -> Result<()> {
    let script = substitute_vars(script, vars);
    for statement in split_statements(&script) {
        run_statement(env, &statement.text, out)
            .map_err(|e| e.in_statement_at(statement.line, statement.column))?;
    }
    Ok(())
}

fn io(e: std::io::Error) -> SqlError {
    SqlError::Runtime(weir_core::WeirError::io("writing results", e))
}

/// Runs one statement and prints its result.
pub fn run_statement(env: &mut TableEnvironment, sql: &str, out: &mut dyn Write) -> Result<()> {
    print_result(env.execute_sql(sql)?, out)
}

/// Prints a statement's result as Flink's SQL client does: a query's rows as they arrive
/// (then waits for its job), an INSERT once its job has finished.
pub fn print_result(result: StatementResult, out: &mut dyn Write) -> Result<()> {
    match result {
        StatementResult::Ok => writeln!(out, "[INFO] Execute statement succeeded.").map_err(io)?,
        StatementResult::Table { header, rows } => {
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            print_table(&header, &rows, out).map_err(io)?;
        }
        StatementResult::Text(text) => writeln!(out, "{text}").map_err(io)?,
        StatementResult::Job(job) => {
            let id = job.job_id.clone();
            job.wait()?;
            writeln!(out, "[INFO] Job {id} finished.").map_err(io)?;
        }
        StatementResult::Query(query) => {
            let mut table =
                StreamingTable::start(&query.schema, query.changelog, out).map_err(io)?;
            for batch in query.rows.iter() {
                table.rows(&batch, out).map_err(io)?;
            }
            query.job.wait()?;
            table.finish(out).map_err(io)?;
        }
    }
    Ok(())
}
