//! The catalog: tables (a [`TableDef`] with its connector and resolved schema) and views (a
//! query), by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion_expr::{Expr, LogicalPlan};

use crate::connectors::Connector;
use crate::ddl::TableDef;
use crate::error::{Result, SqlError};
use crate::rewrite::WindowTvf;

/// A table with its connector and its columns' types.
#[derive(Debug, Clone)]
pub struct Table {
    /// The DDL.
    pub def: TableDef,
    /// The configured connector.
    pub connector: Connector,
    /// The columns the connector reads or writes.
    pub physical_schema: SchemaRef,
    /// All columns, physical and computed, in declared order: what queries see.
    pub schema: SchemaRef,
    /// One expression per column of `schema` over the physical columns (a plain column for a
    /// physical one).
    pub projection: Vec<Expr>,
    /// The event-time column (index into `schema`) and the watermark expression over `schema`.
    pub watermark: Option<(usize, Expr)>,
}

impl Table {
    /// Whether column `name` is computed rather than read.
    pub fn is_computed(&self, name: &str) -> bool {
        self.physical_schema.field_with_name(name).is_err()
    }
}

/// A view: a named query.
#[derive(Debug, Clone)]
pub struct View {
    /// The query as written.
    pub query: String,
    /// The query's plan (resolved when the view was created).
    pub plan: LogicalPlan,
    /// The window TVFs the plan reads, by their aliases (unique in the process).
    pub windows: Vec<WindowTvf>,
}

/// What a name refers to.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A table.
    Table(Arc<Table>),
    /// A view.
    View(Arc<View>),
}

impl Entry {
    /// The columns the entry has.
    pub fn schema(&self) -> SchemaRef {
        match self {
            Entry::Table(t) => t.schema.clone(),
            Entry::View(v) => Arc::new(v.plan.schema().as_arrow().clone()),
        }
    }
}

/// Tables and views by name (case-sensitive, as Flink's default catalog).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
}

impl Catalog {
    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// The entry called `name`, or an error that lists the known names.
    pub fn lookup(&self, name: &str) -> Result<&Entry> {
        self.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.entries.keys().map(String::as_str).collect();
            SqlError::catalog(format!(
                "object '{name}' not found; known tables and views: {}",
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    /// Adds an entry; fails if the name is taken (unless `if_not_exists`, which keeps the old).
    pub fn create(&mut self, name: &str, entry: Entry, if_not_exists: bool) -> Result<()> {
        if self.entries.contains_key(name) {
            if if_not_exists {
                return Ok(());
            }
            return Err(SqlError::catalog(format!(
                "table or view '{name}' already exists"
            )));
        }
        self.entries.insert(name.to_string(), entry);
        Ok(())
    }

    /// Removes an entry of the given kind (`view` true for views); fails if there is none
    /// unless `if_exists`.
    pub fn drop(&mut self, name: &str, view: bool, if_exists: bool) -> Result<()> {
        match self.entries.get(name) {
            Some(Entry::View(_)) if view => {}
            Some(Entry::Table(_)) if !view => {}
            Some(_) => {
                return Err(SqlError::catalog(format!(
                    "'{name}' is a {}, not a {}",
                    if view { "table" } else { "view" },
                    if view { "view" } else { "table" }
                )))
            }
            None if if_exists => return Ok(()),
            None => {
                return Err(SqlError::catalog(format!(
                    "{} '{name}' does not exist",
                    if view { "view" } else { "table" }
                )))
            }
        }
        self.entries.remove(name);
        Ok(())
    }

    /// The window TVFs that the views' plans read.
    pub fn view_windows(&self) -> impl Iterator<Item = &WindowTvf> {
        (self.entries.values()).flat_map(|e| match e {
            Entry::View(v) => v.windows.as_slice(),
            Entry::Table(_) => &[],
        })
    }

    /// Names of the tables (`views` false) or views (`views` true), sorted.
    pub fn names(&self, views: bool) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::View(_)) == views)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// A schema of `fields`.
pub fn schema_of(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}
