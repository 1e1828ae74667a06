//! [`StreamTableEnvironment`]: the Table API's entry point over a
//! [`StreamExecutionEnvironment`], with the conversions between tables and DataStreams, and
//! the [`Schema`] of a table made from a DataStream.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema as ArrowSchema};
use datafusion_expr::ScalarUDF;
use weir_core::graph::{NodeKind, PartitionerKind};
use weir_datastream::{DataStream, GraphInput, GraphNode, StreamExecutionEnvironment};
use weir_runtime::job::NodeFactory;
use weir_runtime::partitioner;

use super::conversion::{Changes, FromDataStream, ToDataStream};
use super::row::Row;
use super::table::{Table, TableResult};
use crate::catalog::Entry;
use crate::changelog::RowKind;
use crate::connectors::{Connector, DataStreamInput};
use crate::ddl::{ColumnDef, ColumnKind, TableDef, WatermarkDef};
use crate::error::{Result, SqlError};
use crate::exec::job::build_into_stream_env;
use crate::planner::SOURCE_WATERMARK;
use crate::session::TableEnvironment;
use crate::types::arrow_type;

/// The columns of a table made from a DataStream of [`Row`]s (Flink's `Schema`): physical
/// columns by position, optionally the records' timestamps as a rowtime column, and a
/// watermark.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    columns: Vec<(String, String)>,
    rowtime: Option<(String, String)>,
    watermark: Option<(String, String)>,
}

impl Schema {
    /// An empty schema to add columns to (Flink's `Schema.newBuilder()`).
    pub fn new_builder() -> Schema {
        Schema::default()
    }

    /// A column read from the rows by position, of a Flink type (`"STRING"`, `"BIGINT"`,
    /// `"TIMESTAMP(3)"`, ...).
    pub fn column(mut self, name: &str, flink_type: &str) -> Schema {
        self.columns.push((name.into(), flink_type.into()));
        self
    }

    /// A column holding each record's timestamp (`"TIMESTAMP_LTZ(3)"` or `"TIMESTAMP(3)"`),
    /// after the physical columns (Flink's `columnByMetadata("rowtime", ...)`).
    pub fn column_by_metadata(mut self, name: &str, flink_type: &str) -> Schema {
        self.rowtime = Some((name.into(), flink_type.into()));
        self
    }

    /// The watermark of `column`: `"SOURCE_WATERMARK()"` keeps the stream's own watermarks,
    /// an expression such as `"rowtime - INTERVAL '1' SECOND"` generates them.
    pub fn watermark(mut self, column: &str, expr: &str) -> Schema {
        self.watermark = Some((column.into(), expr.into()));
        self
    }

    /// The finished schema (the builder is the schema).
    pub fn build(self) -> Schema {
        self
    }

    /// The table's columns, the rowtime last.
    fn column_defs(&self) -> Result<Vec<ColumnDef>> {
        self.columns
            .iter()
            .chain(&self.rowtime)
            .map(|(name, type_name)| {
                Ok(ColumnDef {
                    name: name.clone(),
                    kind: ColumnKind::Physical {
                        type_name: type_name.clone(),
                        data_type: arrow_type(type_name)?,
                        not_null: false,
                    },
                })
            })
            .collect()
    }
}

/// The Table API's environment over a DataStream job (Flink's `StreamTableEnvironment`):
/// runs SQL, makes [`Table`]s from catalog tables, queries and DataStreams, and turns tables
/// back into DataStreams of the same job. Cheap to clone: clones share the catalog.
#[derive(Clone)]
pub struct StreamTableEnvironment {
    tables: Rc<RefCell<TableEnvironment>>,
    stream_env: StreamExecutionEnvironment,
    anonymous: Rc<Cell<usize>>,
}

impl StreamTableEnvironment {
    /// A table environment whose jobs run with `env`'s configuration, and whose tables can be
    /// converted from and to `env`'s DataStreams.
    pub fn create(env: &StreamExecutionEnvironment) -> Self {
        StreamTableEnvironment {
            tables: Rc::new(RefCell::new(TableEnvironment::new(env.config()))),
            stream_env: env.clone(),
            anonymous: Rc::new(Cell::new(0)),
        }
    }

    /// Runs a SQL statement, as [`TableEnvironment::execute_sql`] does.
    pub fn execute_sql(&self, statement: &str) -> Result<TableResult> {
        Ok(TableResult::new(
            self.tables.borrow_mut().execute_sql(statement)?,
        ))
    }

    /// Registers a scalar function for SQL and [`super::call`] (Flink's
    /// `createTemporarySystemFunction`).
    pub fn create_temporary_system_function(&self, function: ScalarUDF) {
        self.tables
            .borrow_mut()
            .functions_mut()
            .register_scalar(function);
    }

    /// The result of a query as a table to go on from (Flink's `sqlQuery`).
    pub fn sql_query(&self, query: &str) -> Result<Table> {
        let table = Table::from_sql(self.clone(), query.trim().trim_end_matches(';').into());
        table.resolved_schema()?;
        Ok(table)
    }

    /// The catalog table or view called `name`.
    pub fn from_path(&self, name: &str) -> Result<Table> {
        self.tables.borrow().catalog().lookup(name)?;
        Ok(Table::from_sql(
            self.clone(),
            format!("SELECT * FROM {}", super::expression::quote(name)),
        ))
    }

    /// Registers `table` as the temporary view `name`, for SQL and [`Self::from_path`].
    pub fn create_temporary_view(&self, name: &str, table: &Table) -> Result<()> {
        self.execute_sql(&format!(
            "CREATE TEMPORARY VIEW {} AS {}",
            super::expression::quote(name),
            table.sql()
        ))?;
        Ok(())
    }

    /// A table over `stream`'s rows with `schema`: its columns by position, and with
    /// [`Schema::column_by_metadata`] the records' timestamps, in the same job as the stream.
    pub fn from_data_stream(&self, stream: &DataStream<Row>, schema: Schema) -> Result<Table> {
        let columns = schema.column_defs()?;
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| match &c.kind {
                ColumnKind::Physical { data_type, .. } => {
                    Field::new(&c.name, data_type.clone(), true)
                }
                ColumnKind::Computed { .. } => unreachable!("a stream's columns are physical"),
            })
            .collect();
        let arrow_schema = Arc::new(ArrowSchema::new(fields));
        let parallelism = self.stream_env.parallelism()?;
        let converted: DataStream<()> = stream
            .transform_operator(
                "FromDataStream",
                FromDataStream::factory(arrow_schema, schema.rowtime.is_some()),
            )
            .set_parallelism(parallelism);
        let n = self.anonymous.get();
        self.anonymous.set(n + 1);
        let name = format!("anonymous_datastream_source_{n}");
        let watermark = schema
            .watermark
            .map(|(column, expr)| WatermarkDef { column, expr });
        let source_watermark = watermark
            .as_ref()
            .is_some_and(|w| w.expr.eq_ignore_ascii_case(SOURCE_WATERMARK));
        let def = TableDef {
            name: name.clone(),
            temporary: true,
            if_not_exists: false,
            columns,
            watermark,
            primary_key: Vec::new(),
            options: BTreeMap::new(),
        };
        let connector = Connector::DataStream(DataStreamInput {
            node: converted.id(),
            parallelism,
            source_watermark,
        });
        let mut tables = self.tables.borrow_mut();
        let table = tables.planner().resolve_table_with(def, connector)?;
        tables
            .catalog_mut()
            .create(&name, Entry::Table(Arc::new(table)), false)?;
        drop(tables);
        self.from_path(&name)
    }

    /// The rows of an insert-only `table` as a DataStream of the same job; its rowtime
    /// column, if any, gives the records their timestamps. An updating table is an error
    /// (use [`Self::to_changelog_stream`]).
    pub fn to_data_stream(&self, table: &Table) -> Result<DataStream<Row>> {
        self.to_stream(table, Changes::Inserts)
    }

    /// The changes of any `table` as a DataStream of `(RowKind, Row)` of the same job.
    pub fn to_changelog_stream(&self, table: &Table) -> Result<DataStream<(RowKind, Row)>> {
        self.to_stream(table, Changes::Changelog)
    }

    fn to_stream<T: weir_datastream::Record>(
        &self,
        table: &Table,
        changes: Changes,
    ) -> Result<DataStream<T>> {
        let tables = self.tables.borrow();
        let plan = tables.runnable_query_plan(&table.sql())?;
        if changes == Changes::Inserts && plan.is_updating() {
            return Err(SqlError::plan(
                "to_data_stream: the table is updating (it has a non-windowed aggregation, an \
                 outer join or another operator that updates its results), which an \
                 insert-only DataStream cannot hold; use to_changelog_stream",
            ));
        }
        let mut config = tables.config()?;
        config.set_string(
            "parallelism.default",
            self.stream_env.parallelism()?.to_string(),
        );
        let rowtime = plan.rowtime_columns().iter().position(|r| *r);
        let (root, parallelism) = build_into_stream_env(&plan, &config, &self.stream_env)?;
        let node = self.stream_env.add_node(GraphNode {
            name: match changes {
                Changes::Inserts => "ToDataStream".into(),
                Changes::Changelog => "ToChangelogStream".into(),
            },
            uid: None,
            kind: NodeKind::Operator,
            parallelism: Some(parallelism),
            num_inputs: 1,
            inputs: vec![GraphInput {
                node: root,
                input: 0,
                partitioner: PartitionerKind::Forward,
                factory: partitioner::forward(),
            }],
            factory: NodeFactory::Operator(ToDataStream::factory(changes, rowtime)),
        });
        Ok(DataStream::of_node(&self.stream_env, node))
    }

    /// Runs `f` on the SQL session behind this environment.
    pub(crate) fn with_session<R>(&self, f: impl FnOnce(&TableEnvironment) -> R) -> R {
        f(&self.tables.borrow())
    }
}
