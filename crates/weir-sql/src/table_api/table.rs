//! [`Table`]: a query built with relational operations, each of which wraps the query so far
//! into Flink SQL, so that tables are planned and run by the same planner and operators as
//! SQL; [`TableResult`]: what running one returned.

use std::io::Write;

use arrow::datatypes::SchemaRef;

use super::environment::StreamTableEnvironment;
use super::expression::{quote, Expression};
use super::row::{rows_of, Row};
use super::window::GroupWindow;
use crate::changelog::RowKind;
use crate::error::{Result, SqlError};
use crate::runner::print_result;
use crate::session::StatementResult;

/// A table of the Table API: a query over the environment's catalog (Flink's `Table`).
/// Operations return new tables; errors in them show when the table is planned
/// ([`Table::resolved_schema`], [`Table::execute`], ...).
#[derive(Clone)]
pub struct Table {
    env: StreamTableEnvironment,
    query: Query,
}

#[derive(Clone)]
enum Query {
    /// A query in Flink SQL.
    Sql(String),
    /// `left.join(right)` waiting for its condition in `where_`.
    Join(String, String),
}

/// The SQL list of `exprs`, separated by commas.
fn list(exprs: impl IntoIterator<Item = impl Into<Expression>>) -> String {
    exprs
        .into_iter()
        .map(|e| e.into().to_sql())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Table {
    pub(crate) fn from_sql(env: StreamTableEnvironment, sql: String) -> Table {
        Table {
            env,
            query: Query::Sql(sql),
        }
    }

    fn derive(&self, sql: String) -> Table {
        Table::from_sql(self.env.clone(), sql)
    }

    /// The table's query in Flink SQL.
    pub fn sql(&self) -> String {
        match &self.query {
            Query::Sql(sql) => sql.clone(),
            Query::Join(left, right) => {
                format!("SELECT * FROM ({left}) AS l CROSS JOIN ({right}) AS r")
            }
        }
    }

    /// `SELECT {select} FROM (this table) {rest}`.
    fn wrap(&self, select: &str, rest: &str) -> Table {
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(" {rest}")
        };
        self.derive(format!("SELECT {select} FROM ({}) AS t{rest}", self.sql()))
    }

    /// The columns of the table (planning it, so a mistake shows here).
    pub fn resolved_schema(&self) -> Result<SchemaRef> {
        let sql = self.sql();
        let planned = self
            .env
            .with_session(|s| s.planner().plan_query(&sql).map(|p| p.plan))?;
        Ok(std::sync::Arc::new(planned.schema().as_arrow().clone()))
    }

    /// The given columns or expressions: `select([col("a"), col("b").plus(lit(1)).as_("c")])`.
    pub fn select(&self, fields: impl IntoIterator<Item = impl Into<Expression>>) -> Table {
        self.wrap(&list(fields), "")
    }

    /// The rows for which `predicate` holds; after [`Table::join`], the join condition.
    pub fn filter(&self, predicate: Expression) -> Table {
        match &self.query {
            Query::Join(left, right) => self.derive(format!(
                "SELECT * FROM ({left}) AS l JOIN ({right}) AS r ON {}",
                predicate.to_sql()
            )),
            Query::Sql(_) => self.wrap("*", &format!("WHERE {}", predicate.to_sql())),
        }
    }

    /// Flink's `where` (a keyword in Rust): [`Table::filter`].
    pub fn where_(&self, predicate: Expression) -> Table {
        self.filter(predicate)
    }

    /// These columns plus `fields` (Flink's `addColumns`).
    pub fn add_columns(&self, fields: impl IntoIterator<Item = impl Into<Expression>>) -> Table {
        self.wrap(&format!("*, {}", list(fields)), "")
    }

    /// The same columns, those named in `renamings` (`col("a").as_("b")`) renamed.
    pub fn rename_columns(&self, renamings: impl IntoIterator<Item = Expression>) -> Result<Table> {
        let renamings: Vec<Expression> = renamings.into_iter().collect();
        let pairs = renamings
            .iter()
            .map(|e| {
                e.renaming().ok_or_else(|| {
                    SqlError::plan(format!(
                        "rename_columns: expected col(\"old\").as_(\"new\"), found {}",
                        e.to_sql()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let schema = self.resolved_schema()?;
        for (old, _) in &pairs {
            schema.index_of(old).map_err(|_| {
                SqlError::plan(format!("rename_columns: the table has no column '{old}'"))
            })?;
        }
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| match pairs.iter().find(|(old, _)| old == f.name()) {
                Some((old, new)) => format!("{} AS {}", quote(old), quote(new)),
                None => quote(f.name()),
            })
            .collect();
        Ok(self.wrap(&columns.join(", "), ""))
    }

    /// Groups the rows by `keys`, for an aggregating `select` (an updating result).
    pub fn group_by(&self, keys: impl IntoIterator<Item = impl Into<Expression>>) -> GroupedTable {
        GroupedTable {
            table: self.clone(),
            keys: keys.into_iter().map(Into::into).collect(),
        }
    }

    /// Assigns rows to the group windows of `window`; go on with `group_by` naming the
    /// window's alias and any keys.
    pub fn window(&self, window: GroupWindow) -> WindowedTable {
        WindowedTable {
            table: self.clone(),
            window,
        }
    }

    /// An inner join with `right`, whose condition follows with `where_`.
    pub fn join(&self, right: &Table) -> Table {
        Table {
            env: self.env.clone(),
            query: Query::Join(self.sql(), right.sql()),
        }
    }

    /// An inner join with `right` on `condition`.
    pub fn join_on(&self, right: &Table, condition: Expression) -> Table {
        self.join(right).filter(condition)
    }

    /// A left outer join with `right` on `condition` (an updating result).
    pub fn left_outer_join(&self, right: &Table, condition: Expression) -> Table {
        self.derive(format!(
            "SELECT * FROM ({}) AS l LEFT JOIN ({}) AS r ON {}",
            self.sql(),
            right.sql(),
            condition.to_sql()
        ))
    }

    /// The rows ordered by `fields` (`col("ts").asc()`); a streaming table can only be
    /// ordered by a time attribute first.
    pub fn order_by(&self, fields: impl IntoIterator<Item = impl Into<Expression>>) -> Table {
        self.wrap("*", &format!("ORDER BY {}", list(fields)))
    }

    /// The distinct rows (an updating result).
    pub fn distinct(&self) -> Table {
        self.wrap("DISTINCT *", "")
    }

    /// The rows of this table and then of `other`, which has the same columns.
    pub fn union_all(&self, other: &Table) -> Table {
        self.derive(format!(
            "SELECT * FROM ({}) AS a UNION ALL SELECT * FROM ({}) AS b",
            self.sql(),
            other.sql()
        ))
    }

    /// Runs the query and returns its result, to `print` or `collect`.
    pub fn execute(&self) -> Result<TableResult> {
        self.env.execute_sql(&self.sql())
    }

    /// Writes the table into the catalog table `sink` (as `INSERT INTO sink ...`).
    pub fn execute_insert(&self, sink: &str) -> Result<TableResult> {
        self.env
            .execute_sql(&format!("INSERT INTO {} {}", quote(sink), self.sql()))
    }

    /// The plan, as SQL `EXPLAIN` shows it.
    pub fn explain(&self) -> Result<String> {
        match self
            .env
            .execute_sql(&format!("EXPLAIN {}", self.sql()))?
            .result
        {
            StatementResult::Text(text) => Ok(text),
            _ => Err(SqlError::plan("internal: EXPLAIN returned no text")),
        }
    }
}

/// A table grouped by keys, waiting for its aggregating `select`.
pub struct GroupedTable {
    table: Table,
    keys: Vec<Expression>,
}

impl GroupedTable {
    /// The keys and aggregates: `select([col("k"), col("v").sum().as_("total")])`.
    pub fn select(&self, fields: impl IntoIterator<Item = impl Into<Expression>>) -> Table {
        self.table.wrap(
            &list(fields),
            &format!("GROUP BY {}", list(self.keys.clone())),
        )
    }
}

/// A table with a group window, waiting for `group_by`.
pub struct WindowedTable {
    table: Table,
    window: GroupWindow,
}

impl WindowedTable {
    /// Groups by the window (its alias must be among `keys`) and the other keys.
    pub fn group_by(
        &self,
        keys: impl IntoIterator<Item = impl Into<Expression>>,
    ) -> Result<WindowGroupedTable> {
        let keys: Vec<Expression> = keys.into_iter().map(Into::into).collect();
        let alias = self.window.alias.as_str();
        if !keys.iter().any(|k| k.column_name() == Some(alias)) {
            return Err(SqlError::plan(format!(
                "group_by of a windowed table must name the window alias '{alias}'"
            )));
        }
        Ok(WindowGroupedTable {
            table: self.table.clone(),
            window: self.window.clone(),
            keys: keys
                .into_iter()
                .filter(|k| k.column_name() != Some(alias))
                .collect(),
        })
    }
}

/// A table grouped by a window and keys, waiting for its aggregating `select`.
pub struct WindowGroupedTable {
    table: Table,
    window: GroupWindow,
    keys: Vec<Expression>,
}

impl WindowGroupedTable {
    /// The keys, window bounds (`col("w").start()`, `.end()`) and aggregates.
    pub fn select(&self, fields: impl IntoIterator<Item = impl Into<Expression>>) -> Table {
        let bound = |alias: &str, b| {
            if alias == self.window.alias {
                self.window.bound(b)
            } else {
                // Planning fails with the unknown name, as it should.
                format!("{}.{b:?}", quote(alias))
            }
        };
        let fields: Vec<String> = fields
            .into_iter()
            .map(|f| f.into().to_sql_with(&bound))
            .collect();
        let mut group = vec![self.window.group_key()];
        group.extend(self.keys.iter().map(Expression::to_sql));
        self.table.wrap(
            &fields.join(", "),
            &format!("GROUP BY {}", group.join(", ")),
        )
    }
}

/// What running a statement or table returned (Flink's `TableResult`).
pub struct TableResult {
    result: StatementResult,
}

impl TableResult {
    pub(crate) fn new(result: StatementResult) -> Self {
        TableResult { result }
    }

    /// Prints the result to stdout as `weir sql` does (a query's rows as they arrive, with
    /// the `op` column of its changelog), waiting for the job to end.
    pub fn print(self) -> Result<()> {
        self.print_to(&mut std::io::stdout().lock())
    }

    /// Prints the result to `out`, as [`TableResult::print`] does.
    pub fn print_to(self, out: &mut dyn Write) -> Result<()> {
        print_result(self.result, out)
    }

    /// The rows of a query's changelog once its job has ended (none for other statements).
    pub fn collect(self) -> Result<Vec<(RowKind, Row)>> {
        match self.result {
            StatementResult::Query(query) => {
                let mut rows = Vec::new();
                for batch in query.rows.iter() {
                    let kinds = (0..batch.rows.num_rows()).map(|i| batch.kind(i));
                    rows.extend(kinds.zip(rows_of(&batch.rows)?));
                }
                query.job.wait()?;
                Ok(rows)
            }
            StatementResult::Job(job) => {
                job.wait()?;
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Waits for the statement's job, if any, to end (Flink's `await`).
    pub fn wait(self) -> Result<()> {
        self.collect().map(drop)
    }
}
