//! The [`TableEnvironment`]: a catalog, functions and configuration, and
//! [`TableEnvironment::execute_sql`] for every statement of Flink's SQL client.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::SchemaRef;
use crossbeam_channel::Receiver;
use datafusion_common::DFSchema;
use datafusion_expr::{Expr, LogicalPlan};
use regex::Regex;
use weir_core::config::{options, Configuration, RuntimeMode};
use weir_runtime::{JobHandle, MiniCluster};

use crate::catalog::{Catalog, Entry, View};
use crate::changelog::ChangeBatch;
use crate::ddl::{parse_create_table, ColumnKind};
use crate::error::{Result, SqlError};
use crate::exec::job::build_job;
use crate::functions::Functions;
use crate::plan::{explain, phases, translate, StreamOp, StreamPlan, Translator};
use crate::planner::Planner;
use crate::script::split_statements;
use crate::types::flink_type_name;

/// What a statement returned.
pub enum StatementResult {
    /// The statement changed the session or catalog.
    Ok,
    /// Rows of text, with a header (SHOW, DESCRIBE).
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Text (EXPLAIN, SHOW CREATE TABLE).
    Text(String),
    /// A running query: its rows arrive on `rows` until the job ends.
    Query(QueryResult),
    /// A submitted INSERT job.
    Job(JobHandle),
}

/// A running query.
pub struct QueryResult {
    /// The columns of the result.
    pub schema: SchemaRef,
    /// The changelog of the result, as it is produced.
    pub rows: Receiver<ChangeBatch>,
    /// Whether the rows are a changelog (streaming mode) rather than final rows (batch mode,
    /// where every row is an insert).
    pub changelog: bool,
    /// The job computing it.
    pub job: JobHandle,
}

static CREATE_VIEW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)^CREATE\s+(?:TEMPORARY\s+)?VIEW\s+(IF\s+NOT\s+EXISTS\s+)?`?([\w.]+)`?\s+AS\s+(.+)$",
    )
    .unwrap()
});
static DROP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^DROP\s+(?:TEMPORARY\s+)?(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?`?([\w.]+)`?$")
        .unwrap()
});
static SET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)^SET\s+'([^']+)'\s*=\s*'((?:[^']|'')*)'$").unwrap());
static RESET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)^RESET(?:\s+'([^']+)')?$").unwrap());
static SHOW_CREATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)^SHOW\s+CREATE\s+(TABLE|VIEW)\s+`?([\w.]+)`?$").unwrap());
static DESCRIBE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)^(?:DESCRIBE|DESC)\s+`?([\w.]+)`?$").unwrap());
static INSERT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^INSERT\s+(?:INTO|OVERWRITE)\s+(?:TABLE\s+)?`?([\w.]+)`?\s+(.+)$").unwrap()
});
static STATEMENT_SET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)^(?:EXECUTE\s+STATEMENT\s+SET\s+BEGIN|BEGIN\s+STATEMENT\s+SET)\s*;?(.*?)\bEND$",
    )
    .unwrap()
});
static EXPLAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)^EXPLAIN\s+(?:PLAN\s+FOR\s+)?(.+)$").unwrap());

/// Flink's TableEnvironment in streaming mode, on Weir's embedded mini-cluster.
pub struct TableEnvironment {
    catalog: Catalog,
    functions: Functions,
    base_config: Configuration,
    options: BTreeMap<String, String>,
}

impl TableEnvironment {
    /// An environment whose jobs start from `config` (plus what `SET` adds).
    pub fn new(config: Configuration) -> Self {
        TableEnvironment {
            catalog: Catalog::default(),
            functions: Functions::default(),
            base_config: config,
            options: BTreeMap::new(),
        }
    }

    /// The catalog.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The catalog, to register tables the Table API creates.
    pub(crate) fn catalog_mut(&mut self) -> &mut Catalog {
        &mut self.catalog
    }

    /// The functions, to register UDFs.
    pub fn functions_mut(&mut self) -> &mut Functions {
        &mut self.functions
    }

    /// The configuration of the next job: the base plus the `SET` options.
    pub fn config(&self) -> Result<Configuration> {
        let mut config = self.base_config.clone();
        for (k, v) in &self.options {
            config.set_string(k, v);
        }
        Ok(config)
    }

    /// Runs one statement.
    pub fn execute_sql(&mut self, statement: &str) -> Result<StatementResult> {
        let sql = statement.trim().trim_end_matches(';').trim();
        let words: Vec<String> = sql
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .take(3)
            .map(|w| w.to_ascii_uppercase())
            .collect();
        let first = words.first().map(String::as_str).unwrap_or("");
        let second = words.get(1).map(String::as_str).unwrap_or("");
        let third = words.get(2).map(String::as_str).unwrap_or("");
        match (first, second, third) {
            ("CREATE", "TABLE", _) | ("CREATE", "TEMPORARY", "TABLE") => self.create_table(sql),
            ("CREATE", "VIEW", _) | ("CREATE", "TEMPORARY", "VIEW") => self.create_view(sql),
            ("DROP", ..) => self.drop(sql),
            ("SHOW", "TABLES", _) => Ok(self.names_table("table name", &self.all_names())),
            ("SHOW", "VIEWS", _) => Ok(self.names_table("view name", &self.catalog.names(true))),
            ("SHOW", "CREATE", _) => self.show_create(sql),
            ("DESCRIBE", ..) | ("DESC", ..) => self.describe(sql),
            ("SET", ..) => self.set(sql),
            ("RESET", ..) => self.reset(sql),
            ("EXPLAIN", ..) => self.explain(sql),
            ("INSERT", ..) => self.insert(sql),
            ("SELECT", ..) | ("WITH", ..) | ("VALUES", ..) | ("(", ..) => self.query(sql),
            _ if first.starts_with('(') => self.query(sql),
            ("EXECUTE", "STATEMENT", "SET") | ("BEGIN", "STATEMENT", "SET") => {
                self.statement_set(sql)
            }
            ("EXECUTE", "INSERT", _) => self.insert(sql["EXECUTE".len()..].trim_start()),
            _ => Err(SqlError::Parse {
                line: 1,
                column: 1,
                message: format!(
                    "Expected: CREATE, DROP, SHOW, DESCRIBE, SET, RESET, EXPLAIN, INSERT or a query, found: {}",
                    sql.split_whitespace().next().unwrap_or("end of input")
                ),
            }),
        }
    }

    pub(crate) fn planner(&self) -> Planner<'_> {
        Planner::new(&self.catalog, &self.functions)
    }

    fn create_table(&mut self, sql: &str) -> Result<StatementResult> {
        let def = parse_create_table(sql)?;
        let (name, if_not_exists) = (def.name.clone(), def.if_not_exists);
        let table = self.planner().resolve_table(def)?;
        self.catalog
            .create(&name, Entry::Table(Arc::new(table)), if_not_exists)?;
        Ok(StatementResult::Ok)
    }

    fn create_view(&mut self, sql: &str) -> Result<StatementResult> {
        let caps = CREATE_VIEW.captures(sql).ok_or_else(|| {
            SqlError::plan("expected CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name AS query")
        })?;
        let name = caps[2].to_string();
        let query = caps[3].to_string();
        let planned = self.planner().plan_query(&query)?;
        if !planned.windows.is_empty() {
            return Err(SqlError::plan(
                "a view over a window table-valued function is not supported yet; aggregate in the view instead",
            ));
        }
        let view = View {
            query,
            plan: planned.plan,
        };
        self.catalog
            .create(&name, Entry::View(Arc::new(view)), caps.get(1).is_some())?;
        Ok(StatementResult::Ok)
    }

    fn drop(&mut self, sql: &str) -> Result<StatementResult> {
        let caps = DROP.captures(sql).ok_or_else(|| {
            SqlError::plan("expected DROP [TEMPORARY] TABLE|VIEW [IF EXISTS] name")
        })?;
        let view = caps[1].eq_ignore_ascii_case("VIEW");
        self.catalog.drop(&caps[3], view, caps.get(2).is_some())?;
        Ok(StatementResult::Ok)
    }

    fn all_names(&self) -> Vec<String> {
        let mut names = self.catalog.names(false);
        names.extend(self.catalog.names(true));
        names.sort();
        names
    }

    fn names_table(&self, header: &str, names: &[String]) -> StatementResult {
        StatementResult::Table {
            header: vec![header.to_string()],
            rows: names.iter().map(|n| vec![n.clone()]).collect(),
        }
    }

    fn show_create(&self, sql: &str) -> Result<StatementResult> {
        let caps = SHOW_CREATE
            .captures(sql)
            .ok_or_else(|| SqlError::plan("expected SHOW CREATE TABLE|VIEW name"))?;
        match self.catalog.lookup(&caps[2])? {
            Entry::Table(t) => Ok(StatementResult::Text(t.def.to_ddl())),
            Entry::View(v) => Ok(StatementResult::Text(format!(
                "CREATE VIEW `{}` AS\n{}",
                &caps[2], v.query
            ))),
        }
    }

    fn describe(&self, sql: &str) -> Result<StatementResult> {
        let caps = DESCRIBE
            .captures(sql)
            .ok_or_else(|| SqlError::plan("expected DESCRIBE name"))?;
        let entry = self.catalog.lookup(&caps[1])?;
        let header = ["name", "type", "null", "key", "extras", "watermark"]
            .map(String::from)
            .to_vec();
        let rows = match entry {
            Entry::Table(t) => t
                .def
                .columns
                .iter()
                .zip(t.schema.fields())
                .map(|(c, f)| {
                    let (null, extras) = match &c.kind {
                        ColumnKind::Physical { not_null, .. } => (!not_null, String::new()),
                        ColumnKind::Computed { expr } => (true, format!("AS {expr}")),
                    };
                    let is_key = t.def.primary_key.contains(&c.name);
                    let mut type_name = flink_type_name(f.data_type());
                    if t.def.watermark.as_ref().is_some_and(|w| w.column == c.name) {
                        type_name.push_str(" *ROWTIME*");
                    }
                    if matches!(&c.kind, ColumnKind::Computed { expr } if expr.eq_ignore_ascii_case("PROCTIME()")) {
                        type_name = "TIMESTAMP_LTZ(3) *PROCTIME*".into();
                    }
                    vec![
                        c.name.clone(),
                        type_name,
                        (if null && !is_key { "TRUE" } else { "FALSE" }).into(),
                        if is_key {
                            format!("PRI({})", t.def.primary_key.join(", "))
                        } else {
                            String::new()
                        },
                        extras,
                        t.def
                            .watermark
                            .as_ref()
                            .filter(|w| w.column == c.name)
                            .map(|w| w.expr.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect(),
            Entry::View(v) => v
                .plan
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    vec![
                        f.name().clone(),
                        flink_type_name(f.data_type()),
                        (if f.is_nullable() { "TRUE" } else { "FALSE" }).into(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]
                })
                .collect(),
        };
        Ok(StatementResult::Table { header, rows })
    }

    fn set(&mut self, sql: &str) -> Result<StatementResult> {
        if sql.trim().eq_ignore_ascii_case("SET") {
            let rows = self
                .options
                .iter()
                .map(|(k, v)| vec![k.clone(), v.clone()])
                .collect();
            return Ok(StatementResult::Table {
                header: vec!["key".into(), "value".into()],
                rows,
            });
        }
        let caps = SET
            .captures(sql)
            .ok_or_else(|| SqlError::plan("expected SET 'key' = 'value'"))?;
        let (key, value) = (caps[1].to_string(), caps[2].replace("''", "'"));
        self.options.insert(key, value);
        Ok(StatementResult::Ok)
    }

    fn reset(&mut self, sql: &str) -> Result<StatementResult> {
        let caps = RESET
            .captures(sql)
            .ok_or_else(|| SqlError::plan("expected RESET or RESET 'key'"))?;
        match caps.get(1) {
            Some(key) => {
                self.options.remove(key.as_str());
            }
            None => self.options.clear(),
        }
        Ok(StatementResult::Ok)
    }

    /// Plans a query or INSERT into its streaming plan (with its sink at the root).
    fn stream_plan(&self, sql: &str) -> Result<StreamPlan> {
        match INSERT.captures(sql) {
            Some(caps) => self.insert_plan(&caps[1], &caps[2]),
            None => {
                let plan = self.runnable_query_plan(sql)?;
                let schema = plan.schema.clone();
                self.optimized(StreamPlan {
                    op: StreamOp::Collect,
                    inputs: vec![plan],
                    schema,
                })
            }
        }
    }

    /// `plan` with the optimisations the configuration asks for (two-phase aggregation).
    fn optimized(&self, plan: StreamPlan) -> Result<StreamPlan> {
        if phases::two_phase(&self.config()?)? {
            return phases::split_aggregations(plan);
        }
        Ok(plan)
    }

    fn query_plan(&self, sql: &str) -> Result<(StreamPlan, LogicalPlan)> {
        let planned = self.planner().plan_query(sql)?;
        let lookup = |name: &str| self.catalog.lookup(name).cloned();
        let plan_scan = |name: &str| {
            self.planner()
                .plan_query(&format!("SELECT * FROM `{name}`"))
                .map(|p| p.plan)
        };
        let translator = Translator {
            windows: &planned.windows,
            lookup: &lookup,
            plan_scan: &plan_scan,
        };
        Ok((translate(&planned.plan, &translator)?, planned.plan))
    }

    /// Whether jobs run in batch mode (`execution.runtime-mode: batch`).
    pub(crate) fn batch_mode(&self) -> Result<bool> {
        let mode = self
            .config()?
            .get(&options::EXECUTION_RUNTIME_MODE)
            .map_err(|e| SqlError::plan(e.to_string()))?;
        Ok(mode == RuntimeMode::Batch)
    }

    /// The streaming plan of a query as it runs in the current mode: in batch mode every
    /// source must end, and an updating result becomes its final rows.
    pub(crate) fn runnable_query_plan(&self, sql: &str) -> Result<StreamPlan> {
        let (plan, _) = self.query_plan(sql)?;
        if !self.batch_mode()? {
            return Ok(plan);
        }
        if let Some(table) = plan.unbounded_source() {
            return Err(SqlError::plan(format!(
                "Querying an unbounded table 'default_catalog.default_database.{}' in batch \
                 mode is not allowed: its '{}' source does not end (give datagen \
                 'number-of-rows', nexmark 'events.num', or kafka 'scan.bounded.mode')",
                table.def.name,
                table.connector.name()
            )));
        }
        if !plan.is_updating() {
            return Ok(plan);
        }
        let schema = plan.schema.clone();
        Ok(StreamPlan {
            op: StreamOp::FinalResult,
            inputs: vec![plan],
            schema,
        })
    }

    fn insert_plan(&self, table: &str, query: &str) -> Result<StreamPlan> {
        let Entry::Table(sink) = self.catalog.lookup(table)? else {
            return Err(SqlError::plan(format!("cannot INSERT INTO view '{table}'")));
        };
        let plan = self.runnable_query_plan(query)?;
        let target = &sink.physical_schema;
        if plan.schema.fields().len() != target.fields().len() {
            return Err(SqlError::plan(format!(
                "INSERT INTO {table}: the query has {} columns, the table has {} ({})",
                plan.schema.fields().len(),
                target.fields().len(),
                target
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if plan.is_updating() && !sink.connector.accepts_updates() {
            return Err(SqlError::plan(format!(
                "Table sink 'default_catalog.default_database.{table}' doesn't support consuming \
                 update changes which is produced by a non-windowed aggregation or an upsert \
                 source: connector '{}' accepts inserts only; use a window aggregation, or an \
                 upsert sink such as 'upsert-kafka'",
                sink.connector.name()
            )));
        }
        let casts: Vec<Expr> = plan
            .schema
            .columns()
            .into_iter()
            .zip(target.fields())
            .map(|(c, f)| {
                Expr::Cast(datafusion_expr::Cast::new(
                    Box::new(Expr::Column(c)),
                    f.data_type().clone(),
                ))
                .alias(f.name())
            })
            .collect();
        let schema = Arc::new(DFSchema::try_from_qualified_schema(table, target)?);
        let input_schema = plan.schema.clone();
        let calc = StreamPlan {
            op: StreamOp::Calc {
                exprs: casts,
                filter: None,
                input_schema,
            },
            inputs: vec![plan],
            schema: schema.clone(),
        };
        self.optimized(StreamPlan {
            op: StreamOp::Sink {
                table: sink.clone(),
            },
            inputs: vec![calc],
            schema,
        })
    }

    fn explain(&self, sql: &str) -> Result<StatementResult> {
        let caps = EXPLAIN
            .captures(sql)
            .ok_or_else(|| SqlError::plan("expected EXPLAIN query"))?;
        let inner = caps[1].trim();
        let plan = self.stream_plan(inner)?;
        let logical = match INSERT.captures(inner) {
            Some(c) => self.query_plan(&c[2])?.1,
            None => self.query_plan(inner)?.1,
        };
        Ok(StatementResult::Text(format!(
            "== Abstract Syntax Tree ==\n{}\n\n== Optimized Physical Plan ==\n{}",
            logical.display_indent(),
            explain(&plan)
        )))
    }

    fn submit(
        &self,
        name: &str,
        plans: &[StreamPlan],
        collect: Option<crossbeam_channel::Sender<ChangeBatch>>,
    ) -> Result<JobHandle> {
        let mut config = self.config()?;
        if self.batch_mode()? {
            // As in Flink, a bounded job in batch mode does not take checkpoints.
            let interval = &options::CHECKPOINTING_INTERVAL;
            for key in std::iter::once(&interval.key).chain(interval.fallback_keys) {
                config.remove(key);
            }
        }
        let job = build_job(name, plans, &config, collect)?;
        Ok(MiniCluster::new(config).submit(job)?)
    }

    fn insert(&mut self, sql: &str) -> Result<StatementResult> {
        let caps = INSERT
            .captures(sql)
            .ok_or_else(|| SqlError::plan("expected INSERT INTO table query"))?;
        let plan = self.insert_plan(&caps[1], &caps[2])?;
        let name = format!("insert-into_default_catalog.default_database.{}", &caps[1]);
        Ok(StatementResult::Job(self.submit(&name, &[plan], None)?))
    }

    /// `EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END` (or `BEGIN STATEMENT SET;
    /// ... END`): all INSERTs in one job, as Flink submits them.
    fn statement_set(&mut self, sql: &str) -> Result<StatementResult> {
        let body = STATEMENT_SET.captures(sql).ok_or_else(|| {
            SqlError::plan("expected EXECUTE STATEMENT SET BEGIN INSERT INTO ...; ... END")
        })?;
        let mut plans = Vec::new();
        let mut tables = Vec::new();
        for statement in split_statements(&body[1]) {
            let caps = INSERT.captures(&statement.text).ok_or_else(|| {
                SqlError::plan(format!(
                    "only INSERT statements are allowed in a statement set, found: {}",
                    statement.text.split_whitespace().next().unwrap_or("")
                ))
            })?;
            plans.push(self.insert_plan(&caps[1], &caps[2])?);
            tables.push(format!("default_catalog.default_database.{}", &caps[1]));
        }
        if plans.is_empty() {
            return Err(SqlError::plan(
                "the statement set holds no INSERT statement",
            ));
        }
        let name = format!("insert-into_{}", tables.join(","));
        Ok(StatementResult::Job(self.submit(&name, &plans, None)?))
    }

    fn query(&mut self, sql: &str) -> Result<StatementResult> {
        let plan = self.stream_plan(sql)?;
        let schema: SchemaRef = Arc::new(plan.schema.as_arrow().clone());
        let (sender, receiver) = crossbeam_channel::bounded(16);
        let job = self.submit("collect", &[plan], Some(sender))?;
        Ok(StatementResult::Query(QueryResult {
            schema,
            rows: receiver,
            changelog: !self.batch_mode()?,
            job,
        }))
    }
}
