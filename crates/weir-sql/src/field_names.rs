//! Names of selected field accesses as Flink gives them: `SELECT person.id FROM nexmark`
//! yields a column `id` (DataFusion would call it `nexmark.person[id]`), so that views over
//! nested rows (`CREATE VIEW person AS SELECT person.id, ...`) have the columns Flink's have.
//!
//! The pass names every unaliased compound identifier `a.b` in a select list after its last
//! part. For a table-qualified column (`B.auction`) that is the name it has anyway; when two
//! items of one select list would get the same name (`B.extra, A.extra`), neither is renamed.

use std::collections::HashMap;

use sqlparser::ast::{Expr, Query, SelectItem, SetExpr, TableFactor, TableWithJoins};

/// Names the field accesses of every select list in `query`, its subqueries and CTEs.
pub fn name_field_accesses(query: &mut Query) {
    if let Some(with) = &mut query.with {
        for cte in &mut with.cte_tables {
            name_field_accesses(&mut cte.query);
        }
    }
    set_expr(&mut query.body);
}

fn set_expr(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            for from in &mut select.from {
                table_with_joins(from);
            }
            name_items(&mut select.projection);
        }
        SetExpr::Query(query) => name_field_accesses(query),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr(left);
            set_expr(right);
        }
        _ => {}
    }
}

fn table_with_joins(from: &mut TableWithJoins) {
    table_factor(&mut from.relation);
    for join in &mut from.joins {
        table_factor(&mut join.relation);
    }
}

fn table_factor(factor: &mut TableFactor) {
    match factor {
        TableFactor::Derived { subquery, .. } => name_field_accesses(subquery),
        TableFactor::NestedJoin {
            table_with_joins: inner,
            ..
        } => table_with_joins(inner),
        _ => {}
    }
}

/// The name Flink gives an unaliased compound identifier: its last part.
fn field_name(item: &SelectItem) -> Option<&sqlparser::ast::Ident> {
    match item {
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) if parts.len() >= 2 => {
            parts.last()
        }
        _ => None,
    }
}

fn name_items(items: &mut [SelectItem]) {
    let mut uses: HashMap<String, usize> = HashMap::new();
    for item in items.iter() {
        let name = match item {
            SelectItem::UnnamedExpr(Expr::Identifier(ident)) => Some(&ident.value),
            SelectItem::ExprWithAlias { alias, .. } => Some(&alias.value),
            other => field_name(other).map(|ident| &ident.value),
        };
        if let Some(name) = name {
            *uses.entry(name.clone()).or_default() += 1;
        }
    }
    for item in items.iter_mut() {
        let Some(alias) = field_name(item).cloned() else {
            continue;
        };
        if uses.get(&alias.value) == Some(&1) {
            if let SelectItem::UnnamedExpr(expr) = item {
                *item = SelectItem::ExprWithAlias {
                    expr: expr.clone(),
                    alias,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parser;

    fn named(sql: &str) -> String {
        let mut query = parser(sql).unwrap().parse_query().unwrap();
        name_field_accesses(&mut query);
        query.to_string()
    }

    #[test]
    fn field_accesses_are_named_after_the_field() {
        assert_eq!(
            named("SELECT person.id, person.`dateTime`, x FROM t"),
            "SELECT person.id AS id, person.`dateTime` AS `dateTime`, x FROM t"
        );
        assert_eq!(
            named("SELECT q.a FROM (SELECT bid.a FROM t) AS q"),
            "SELECT q.a AS a FROM (SELECT bid.a AS a FROM t) AS q"
        );
    }

    #[test]
    fn clashing_names_are_left_alone() {
        assert_eq!(
            named("SELECT B.extra, A.extra, B.x AS y, C.y FROM b AS B, a AS A"),
            "SELECT B.extra, A.extra, B.x AS y, C.y FROM b AS B, a AS A"
        );
    }
}
