//! Logical planning with DataFusion: the [`ContextProvider`] over Weir's catalog and function
//! library, queries to analysed (type-coerced) [`LogicalPlan`]s, and the resolution of a
//! `CREATE TABLE` into a [`Table`] (types of computed columns, the watermark expression).

use std::borrow::Cow;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, SchemaRef, TimeUnit};
use datafusion_common::config::ConfigOptions;
use datafusion_common::{plan_err, DFSchema, DataFusionError, Span, TableReference};
use datafusion_expr::planner::{ContextProvider, ExprPlanner};
use datafusion_expr::{
    AggregateUDF, Expr, ExprSchemable, HigherOrderUDF, LogicalPlan, LogicalPlanBuilder, ScalarUDF,
    TableSource, WindowUDF,
};
use datafusion_functions::core::planner::CoreFunctionPlanner;
use datafusion_optimizer::analyzer::Analyzer;
use datafusion_sql::planner::{PlannerContext, SqlToRel};
use sqlparser::ast::Statement;

use crate::catalog::{schema_of, Catalog, Entry, Table};
use crate::connectors::{normalize_options, Connector};
use crate::ddl::{ColumnKind, TableDef};
use crate::error::{Result, SqlError};
use crate::field_names::name_field_accesses;
use crate::functions::{ArrayLiteralPlanner, Functions};
use crate::parse::{parse_error, parser};
use crate::plan::TableFunctionCall;
use crate::rewrite::{rewrite, WindowTvf};

/// A planning error that names the SQL text of the expression it is about, when DataFusion
/// says where that is in `sql`.
fn naming_expression(e: DataFusionError, sql: &str) -> SqlError {
    let text = (e.diagnostic().and_then(|d| d.span)).and_then(|span| span_text(sql, span));
    match text {
        Some(text) => SqlError::plan(format!("in `{text}`: {}", e.strip_backtrace())),
        None => e.into(),
    }
}

/// The text of `sql` within `span` (1-based lines and columns, the end exclusive).
fn span_text(sql: &str, span: Span) -> Option<&str> {
    let offset = |l: &datafusion_common::Location| {
        let line_start: usize = (sql
            .split_inclusive('\n')
            .take((l.line as usize).checked_sub(1)?))
        .map(str::len)
        .sum();
        let line = sql[line_start..].lines().next().unwrap_or_default();
        // The end of a span may be just past the line's last character.
        let column = (line.char_indices().map(|(i, _)| i))
            .chain(std::iter::once(line.len()))
            .nth((l.column as usize).checked_sub(1)?)?;
        Some(line_start + column)
    };
    sql.get(offset(&span.start)?..offset(&span.end)?)
        .filter(|t| !t.trim().is_empty())
}

/// The names of the columns a window TVF adds.
pub const WINDOW_COLUMNS: [&str; 3] = ["window_start", "window_end", "window_time"];

/// What a scan in a logical plan reads: a table's columns, or a view's plan (inlined by the
/// analyser).
#[derive(Debug)]
struct Source {
    schema: SchemaRef,
    plan: Option<LogicalPlan>,
}

impl TableSource for Source {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        self.plan.as_ref().map(Cow::Borrowed)
    }
}

/// What the scan of a table function call (`LATERAL TABLE(f(...))`) reads: the call, whose
/// arguments refer to the columns of the rows it is joined to (outer references).
#[derive(Debug)]
pub struct TableFunctionSource {
    /// The call.
    pub call: TableFunctionCall,
    schema: SchemaRef,
}

impl TableFunctionSource {
    /// The table function call that `source` reads, if it reads one.
    pub fn of(source: &dyn TableSource) -> Option<&TableFunctionCall> {
        let source: &dyn std::any::Any = source;
        source
            .downcast_ref::<TableFunctionSource>()
            .map(|s| &s.call)
    }
}

impl TableSource for TableFunctionSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// Plans statements against a catalog.
pub struct Planner<'a> {
    catalog: &'a Catalog,
    functions: &'a Functions,
    windows: Vec<WindowTvf>,
    options: ConfigOptions,
    /// Plans field access on nested rows (`person.id`) as `get_field`.
    expr_planners: Vec<Arc<dyn ExprPlanner>>,
}

/// A planned query.
#[derive(Debug, Clone)]
pub struct PlannedQuery {
    /// The analysed logical plan.
    pub plan: LogicalPlan,
    /// The window TVFs that the plan scans by their generated names.
    pub windows: Vec<WindowTvf>,
}

impl<'a> Planner<'a> {
    /// A planner over `catalog` and `functions`.
    pub fn new(catalog: &'a Catalog, functions: &'a Functions) -> Self {
        let mut options = ConfigOptions::default();
        options.sql_parser.enable_ident_normalization = false;
        // Errors then point at the expression they are about.
        options.sql_parser.collect_spans = true;
        // Flink sorts NULL as the lowest value (first when ascending, last when descending).
        options.sql_parser.default_null_ordering = "nulls_min".to_string();
        Planner {
            catalog,
            functions,
            windows: Vec::new(),
            options,
            expr_planners: vec![
                Arc::new(CoreFunctionPlanner::default()),
                Arc::new(ArrayLiteralPlanner::default()),
            ],
        }
    }

    /// Plans a query (`SELECT`, `WITH`, `VALUES`, ...) written in Flink's dialect.
    pub fn plan_query(mut self, sql: &str) -> Result<PlannedQuery> {
        let rewritten = rewrite(sql)?;
        for w in &rewritten.windows {
            self.check_window(w)?;
        }
        self.windows = rewritten.windows;
        // The plans of views inlined into this one may read window TVFs of their own.
        self.windows.extend(self.catalog.view_windows().cloned());
        let mut p = parser(&rewritten.sql)?;
        let mut query = p.parse_query().map_err(parse_error)?;
        name_field_accesses(&mut query);
        p.expect_token(&sqlparser::tokenizer::Token::EOF)
            .map_err(parse_error)?;
        let sql_to_rel = SqlToRel::new(&self);
        let plan = sql_to_rel
            .sql_statement_to_plan(Statement::Query(query))
            .map_err(|e| naming_expression(e, &rewritten.sql))?;
        let plan = self.analyze(plan)?;
        Ok(PlannedQuery {
            plan,
            windows: self.windows,
        })
    }

    /// Type-checks and coerces `plan`; a type error names the expression it is in.
    fn analyze(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        let analyzer = Analyzer::new();
        analyzer
            .execute_and_check(plan.clone(), &self.options, |_, _| {})
            .map_err(|e| match self.untypable_expression(&analyzer, &plan) {
                Some(expr) => SqlError::plan(format!(
                    "in `{}`: {}",
                    expr.human_display(),
                    e.strip_backtrace()
                )),
                None => e.into(),
            })
    }

    /// The first expression of a projection or filter in `plan` (inputs first) that the
    /// analyser cannot type over its input.
    fn untypable_expression(&self, analyzer: &Analyzer, plan: &LogicalPlan) -> Option<Expr> {
        if let Some(e) =
            (plan.inputs().into_iter()).find_map(|i| self.untypable_expression(analyzer, i))
        {
            return Some(e);
        }
        let (exprs, input) = match plan {
            LogicalPlan::Projection(p) => (p.expr.clone(), &p.input),
            LogicalPlan::Filter(f) => (vec![f.predicate.clone()], &f.input),
            _ => return None,
        };
        exprs.into_iter().find(|expr| {
            let probe = LogicalPlanBuilder::from(input.as_ref().clone())
                .project([expr.clone()])
                .and_then(|b| b.build());
            probe.is_ok_and(|probe| {
                (analyzer.execute_and_check(probe, &self.options, |_, _| {})).is_err()
            })
        })
    }

    fn check_window(&self, w: &WindowTvf) -> Result<()> {
        let schema = self.catalog.lookup(&w.input)?.schema();
        let field = schema.field_with_name(&w.time_column).map_err(|_| {
            SqlError::plan(format!(
                "{}: column '{}' of DESCRIPTOR does not exist in '{}'",
                w.spec.kind.name(),
                w.time_column,
                w.input
            ))
        })?;
        if !matches!(field.data_type(), DataType::Timestamp(..)) {
            return Err(SqlError::plan(format!(
                "{}: the time attribute '{}' must be a TIMESTAMP(3) or TIMESTAMP_LTZ(3) column",
                w.spec.kind.name(),
                w.time_column
            )));
        }
        Ok(())
    }

    /// Resolves a `CREATE TABLE`: checks the connector, types the computed columns and plans
    /// the watermark expression.
    pub fn resolve_table(&self, def: TableDef) -> Result<Table> {
        let mut def = def;
        def.options = normalize_options(&def.options);
        let physical_schema = physical_schema_of(&def);
        let connector = Connector::for_table(&def.options, &physical_schema, &def.primary_key)?;
        self.resolve_table_with(def, connector)
    }

    /// Resolves a table that reads through `connector` (the Table API's tables over
    /// DataStreams); a watermark `SOURCE_WATERMARK()` is the connector's own.
    pub fn resolve_table_with(&self, def: TableDef, connector: Connector) -> Result<Table> {
        let physical_schema = physical_schema_of(&def);
        let physical = Arc::new(Source {
            schema: physical_schema.clone(),
            plan: None,
        });
        let dfschema = DFSchema::try_from_qualified_schema(def.name.as_str(), &physical_schema)?;
        let sql_to_rel = SqlToRel::new(self);
        let projection =
            def.columns
                .iter()
                .map(|c| match &c.kind {
                    ColumnKind::Physical { .. } => Ok(Expr::Column(
                        datafusion_common::Column::new(Some(def.name.as_str()), &c.name),
                    )),
                    ColumnKind::Computed { expr } => {
                        let sql = parser(expr)?.parse_expr().map_err(parse_error)?;
                        Ok(sql_to_rel
                            .sql_to_expr(sql, &dfschema, &mut PlannerContext::new())?
                            .alias(&c.name))
                    }
                })
                .collect::<Result<Vec<_>>>()?;
        let plan = LogicalPlanBuilder::scan(def.name.as_str(), physical, None)?
            .project(projection)?
            .build()?;
        let LogicalPlan::Projection(projection) = self.analyze(plan)? else {
            return Err(SqlError::plan(
                "internal: a table's columns did not plan to a projection",
            ));
        };
        let schema: SchemaRef = Arc::new(projection.schema.as_arrow().clone());
        let watermark = match &def.watermark {
            None => None,
            Some(w) => {
                let index = schema.index_of(&w.column).map_err(|_| {
                    SqlError::plan(format!("WATERMARK FOR '{}': no such column", w.column))
                })?;
                if !matches!(
                    schema.field(index).data_type(),
                    DataType::Timestamp(TimeUnit::Millisecond, _)
                ) {
                    return Err(SqlError::plan(format!(
                        "WATERMARK FOR '{}': the rowtime column must be TIMESTAMP(3) or TIMESTAMP_LTZ(3)",
                        w.column
                    )));
                }
                let expr = if w.expr.eq_ignore_ascii_case(SOURCE_WATERMARK) {
                    Expr::Column(datafusion_common::Column::new(
                        Some(def.name.as_str()),
                        &w.column,
                    ))
                } else {
                    self.plan_expr(&def.name, &schema, &w.expr)?
                };
                Some((index, expr))
            }
        };
        Ok(Table {
            def,
            connector,
            physical_schema,
            schema,
            projection: projection.expr.clone(),
            watermark,
        })
    }

    /// Plans `expr` (SQL text) over the columns of table `name` with `schema`.
    fn plan_expr(&self, name: &str, schema: &SchemaRef, expr: &str) -> Result<Expr> {
        let dfschema = DFSchema::try_from_qualified_schema(name, schema)?;
        let sql = parser(expr)?.parse_expr().map_err(parse_error)?;
        let planned =
            SqlToRel::new(self).sql_to_expr(sql, &dfschema, &mut PlannerContext::new())?;
        let source = Arc::new(Source {
            schema: schema.clone(),
            plan: None,
        });
        let plan = LogicalPlanBuilder::scan(name, source, None)?
            .project(vec![planned])?
            .build()?;
        match self.analyze(plan)? {
            LogicalPlan::Projection(p) => Ok(p.expr[0].clone()),
            _ => Err(SqlError::plan(
                "internal: an expression did not plan to a projection",
            )),
        }
    }

    /// The columns the arguments of a table function call refer to: those of the tables and
    /// views they name (DataFusion plans the arguments of a lateral call against the `FROM`
    /// items before it, but does not pass on their schema).
    fn argument_columns(&self, args: &[Expr]) -> Result<DFSchema> {
        let mut schema = DFSchema::empty();
        let mut seen = std::collections::HashSet::new();
        for column in args.iter().flat_map(|a| a.column_refs()) {
            let unsupported = || {
                SqlError::plan(format!(
                    "the argument {column} of a table function must be a column of a table or \
                     view named in FROM by its own name (not of an alias or a subquery) in Weir \
                     yet; define a view for the rows instead"
                ))
            };
            let relation = column.relation.as_ref().ok_or_else(unsupported)?;
            if !seen.insert(relation.clone()) {
                continue;
            }
            let table = self
                .catalog
                .lookup(relation.table())
                .map_err(|_| unsupported())?;
            let columns = DFSchema::try_from_qualified_schema(relation.clone(), &table.schema())?;
            schema.merge(&columns);
        }
        Ok(schema)
    }

    fn window_schema(&self, w: &WindowTvf) -> Result<SchemaRef> {
        let input = self.catalog.lookup(&w.input)?.schema();
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        for name in WINDOW_COLUMNS {
            fields.push(Field::new(
                name,
                DataType::Timestamp(TimeUnit::Millisecond, None),
                false,
            ));
        }
        Ok(schema_of(fields))
    }
}

impl ContextProvider for Planner<'_> {
    fn get_table_source(
        &self,
        name: TableReference,
    ) -> datafusion_common::Result<Arc<dyn TableSource>> {
        let table = name.table();
        if let Some(w) = self.windows.iter().find(|w| w.alias == table) {
            let schema = self
                .window_schema(w)
                .map_err(|e| datafusion_common::DataFusionError::Plan(e.to_string()))?;
            return Ok(Arc::new(Source { schema, plan: None }));
        }
        match self.catalog.lookup(table) {
            Ok(Entry::Table(t)) => Ok(Arc::new(Source {
                schema: t.schema.clone(),
                plan: None,
            })),
            Ok(Entry::View(v)) => Ok(Arc::new(Source {
                schema: Arc::new(v.plan.schema().as_arrow().clone()),
                plan: Some(v.plan.clone()),
            })),
            Err(e) => Err(datafusion_common::DataFusionError::Plan(e.to_string())),
        }
    }

    fn get_table_function_source(
        &self,
        name: &str,
        args: Vec<Expr>,
    ) -> datafusion_common::Result<Arc<dyn TableSource>> {
        let Some(function) = self.functions.tables.get(&name.to_ascii_lowercase()) else {
            return plan_err!("no table function named '{name}'");
        };
        let columns = self
            .argument_columns(&args)
            .map_err(|e| datafusion_common::DataFusionError::Plan(e.to_string()))?;
        let arg_types = args
            .iter()
            .map(|a| a.get_type(&columns))
            .collect::<datafusion_common::Result<Vec<_>>>()?;
        // Coerced to the signature's types.
        #[allow(deprecated)] // `fields_with_udf` takes scalar, aggregate and window functions
        let arg_types = datafusion_expr::type_coercion::functions::data_types(
            name,
            &arg_types,
            function.0.signature(),
        )?;
        let args = (args.into_iter().zip(&arg_types))
            .map(|(a, t)| a.cast_to(t, &columns))
            .collect::<datafusion_common::Result<Vec<_>>>()?;
        let fields = function.0.output_fields(&arg_types)?;
        Ok(Arc::new(TableFunctionSource {
            call: TableFunctionCall {
                function: function.clone(),
                args,
            },
            schema: Arc::new(arrow::datatypes::Schema::new(fields)),
        }))
    }

    fn get_function_meta(&self, name: &str) -> Option<Arc<ScalarUDF>> {
        self.functions
            .scalars
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    fn get_aggregate_meta(&self, name: &str) -> Option<Arc<AggregateUDF>> {
        self.functions
            .aggregates
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    fn get_expr_planners(&self) -> &[Arc<dyn ExprPlanner>] {
        &self.expr_planners
    }

    fn get_window_meta(&self, name: &str) -> Option<Arc<WindowUDF>> {
        self.functions
            .windows
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    fn get_higher_order_meta(&self, _name: &str) -> Option<Arc<HigherOrderUDF>> {
        None
    }

    fn higher_order_function_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn get_variable_type(&self, _variable_names: &[String]) -> Option<DataType> {
        None
    }

    fn options(&self) -> &ConfigOptions {
        &self.options
    }

    fn udf_names(&self) -> Vec<String> {
        self.functions.scalars.keys().cloned().collect()
    }

    fn udaf_names(&self) -> Vec<String> {
        self.functions.aggregates.keys().cloned().collect()
    }

    fn udwf_names(&self) -> Vec<String> {
        self.functions.windows.keys().cloned().collect()
    }
}

/// The watermark expression that keeps the watermarks a source (a DataStream) brings.
pub const SOURCE_WATERMARK: &str = "SOURCE_WATERMARK()";

/// The physical columns of `def`, nullable.
fn physical_schema_of(def: &TableDef) -> SchemaRef {
    schema_of(
        def.physical_columns()
            .map(|(name, t)| Field::new(name, t.clone(), true))
            .collect(),
    )
}
