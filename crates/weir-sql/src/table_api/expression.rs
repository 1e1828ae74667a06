//! Expressions of the Table API in the style of Flink's Java Table API: `col("a")` for
//! `$("a")`, `lit(1)`, `col("a").plus(lit(1))`, `col("a").is_greater(lit(0))`,
//! `col("a").sum().as_("total")`, `lit(10).minutes()`, and `col("w").start()` on a window
//! alias. Each expression renders to Flink SQL, which the planner plans.

use std::fmt::Write;

/// An expression of the Table API.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A column, by name.
    Column(String),
    /// SQL text of a literal.
    Literal(String),
    /// An operator between two operands: `(a + b)`.
    Binary(&'static str, Box<Expression>, Box<Expression>),
    /// A prefix or postfix operator or a function call: `NOT (a)`, `(a) IS NULL`, `SUM(a)`.
    Call(&'static str, Vec<Expression>),
    /// A call of a function by name, such as a registered UDF: `f(a, b)`.
    Function(String, Vec<Expression>),
    /// `COUNT(DISTINCT a)` and friends.
    Distinct(&'static str, Box<Expression>),
    /// `expr AS name`.
    Alias(Box<Expression>, String),
    /// An interval literal: a count and a unit.
    Interval(String, &'static str),
    /// The start or end of the group window with this alias.
    WindowBound(String, WindowBound),
}

/// Which bound of a group window an expression reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowBound {
    /// `w.start`: the window's first instant.
    Start,
    /// `w.end`: the instant after the window.
    End,
    /// `w.rowtime`: the window's last instant, a time attribute.
    Rowtime,
}

/// The calls written after their operand.
const POSTFIX: [&str; 4] = ["IS NULL", "IS NOT NULL", "ASC", "DESC"];

/// A column by name (Flink's `$("name")`).
pub fn col(name: &str) -> Expression {
    Expression {
        node: Node::Column(name.to_string()),
    }
}

/// A literal value (Flink's `lit(value)`).
pub fn lit(value: impl Literal) -> Expression {
    Expression {
        node: Node::Literal(value.to_sql()),
    }
}

/// A call of the function `name` (a built-in or one registered with
/// [`super::StreamTableEnvironment::create_temporary_system_function`]), Flink's `call`.
pub fn call(name: &str, args: impl IntoIterator<Item = Expression>) -> Expression {
    Expression {
        node: Node::Function(name.to_string(), args.into_iter().collect()),
    }
}

/// A value that can be a literal: numbers, booleans and strings.
pub trait Literal {
    /// The value as SQL text.
    fn to_sql(&self) -> String;
}

macro_rules! display_literal {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn to_sql(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
display_literal!(i32, i64, u32, bool);

impl Literal for f64 {
    fn to_sql(&self) -> String {
        // A DOUBLE literal, as Flink's `lit(1.5)` is.
        format!("CAST({self:?} AS DOUBLE)")
    }
}

impl Literal for &str {
    fn to_sql(&self) -> String {
        format!("'{}'", self.replace('\'', "''"))
    }
}

impl Literal for String {
    fn to_sql(&self) -> String {
        self.as_str().to_sql()
    }
}

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident => $op:literal),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(self, other: Expression) -> Expression {
            self.binary($op, other)
        }
    )*};
}

macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident => $call:literal),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(self) -> Expression {
            Expression { node: Node::Call($call, vec![self]) }
        }
    )*};
}

macro_rules! intervals {
    ($($(#[$doc:meta])* $name:ident => $unit:literal),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(self) -> Expression {
            self.interval($unit)
        }
    )*};
}

impl Expression {
    fn binary(self, op: &'static str, other: Expression) -> Expression {
        Expression {
            node: Node::Binary(op, Box::new(self), Box::new(other)),
        }
    }

    fn interval(self, unit: &'static str) -> Expression {
        let count = match self.node {
            Node::Literal(text) => text,
            other => Expression { node: other }.to_sql(),
        };
        Expression {
            node: Node::Interval(count, unit),
        }
    }

    binary_ops! {
        /// `self + other`.
        plus => "+",
        /// `self - other`.
        minus => "-",
        /// `self * other`.
        times => "*",
        /// `self / other`.
        divided_by => "/",
        /// `self % other`.
        r#mod => "%",
        /// `self > other`.
        is_greater => ">",
        /// `self >= other`.
        is_greater_or_equal => ">=",
        /// `self < other`.
        is_less => "<",
        /// `self <= other`.
        is_less_or_equal => "<=",
        /// `self = other`.
        is_equal => "=",
        /// `self <> other`.
        is_not_equal => "<>",
        /// `self AND other`.
        and => "AND",
        /// `self OR other`.
        or => "OR",
        /// `self LIKE other`.
        like => "LIKE",
    }

    calls! {
        /// `NOT self` (Flink's `not()`, so not `std::ops::Not`).
        #[allow(clippy::should_implement_trait)]
        not => "NOT",
        /// `self IS NULL`.
        is_null => "IS NULL",
        /// `self IS NOT NULL`.
        is_not_null => "IS NOT NULL",
        /// `COUNT(self)`.
        count => "COUNT",
        /// `SUM(self)`.
        sum => "SUM",
        /// `AVG(self)`.
        avg => "AVG",
        /// `MIN(self)`.
        min => "MIN",
        /// `MAX(self)`.
        max => "MAX",
        /// `UPPER(self)`.
        upper_case => "UPPER",
        /// `LOWER(self)`.
        lower_case => "LOWER",
        /// `CHAR_LENGTH(self)`.
        char_length => "CHAR_LENGTH",
        /// Ascending order, for `order_by`.
        asc => "ASC",
        /// Descending order, for `order_by`.
        desc => "DESC",
    }

    intervals! {
        /// An interval of `self` milliseconds (`lit(500).millis()`).
        millis => "MILLISECOND",
        /// An interval of `self` seconds.
        seconds => "SECOND",
        /// An interval of `self` minutes.
        minutes => "MINUTE",
        /// An interval of `self` hours.
        hours => "HOUR",
        /// An interval of `self` days.
        days => "DAY",
    }

    /// `COUNT(DISTINCT self)`.
    pub fn count_distinct(self) -> Expression {
        Expression {
            node: Node::Distinct("COUNT", Box::new(self)),
        }
    }

    /// Names the expression's result (Flink's `.as("name")`).
    pub fn as_(self, name: &str) -> Expression {
        Expression {
            node: Node::Alias(Box::new(self), name.to_string()),
        }
    }

    /// The start of the group window whose alias this column names (`col("w").start()`).
    pub fn start(self) -> Expression {
        self.window_bound(WindowBound::Start)
    }

    /// The end of the group window whose alias this column names.
    pub fn end(self) -> Expression {
        self.window_bound(WindowBound::End)
    }

    /// The time attribute of the group window whose alias this column names (its end minus
    /// 1 ms).
    pub fn rowtime(self) -> Expression {
        self.window_bound(WindowBound::Rowtime)
    }

    fn window_bound(self, bound: WindowBound) -> Expression {
        let alias = match self.node {
            Node::Column(name) => name,
            other => Expression { node: other }.to_sql(),
        };
        Expression {
            node: Node::WindowBound(alias, bound),
        }
    }

    /// The column name this expression is, if it is a plain column.
    pub(crate) fn column_name(&self) -> Option<&str> {
        match &self.node {
            Node::Column(name) => Some(name),
            _ => None,
        }
    }

    /// `(column, new name)` of a renamed column: `col("a").as_("b")`.
    pub(crate) fn renaming(&self) -> Option<(&str, &str)> {
        match &self.node {
            Node::Alias(inner, name) => inner.column_name().map(|c| (c, name.as_str())),
            _ => None,
        }
    }

    /// The expression's SQL text, with window bounds written by `window`.
    pub(crate) fn to_sql_with(&self, window: &dyn Fn(&str, WindowBound) -> String) -> String {
        let mut out = String::new();
        self.write(&mut out, window);
        out
    }

    /// The expression's SQL text (window bounds as `alias.start`, which only
    /// [`crate::table_api::WindowGroupedTable::select`] resolves).
    pub fn to_sql(&self) -> String {
        self.to_sql_with(&|alias, bound| format!("{}.{bound:?}", quote(alias)))
    }

    fn write(&self, out: &mut String, window: &dyn Fn(&str, WindowBound) -> String) {
        match &self.node {
            Node::Column(name) => out.push_str(&quote(name)),
            Node::Literal(text) => out.push_str(text),
            Node::Binary(op, a, b) => {
                out.push('(');
                a.write(out, window);
                let _ = write!(out, " {op} ");
                b.write(out, window);
                out.push(')');
            }
            Node::Call(call, args) if POSTFIX.contains(call) => {
                out.push('(');
                args[0].write(out, window);
                let _ = write!(out, ") {call}");
            }
            Node::Call(call, args) => write_call(out, call, args, window),
            Node::Function(name, args) => write_call(out, &quote(name), args, window),
            Node::Distinct(call, arg) => {
                let _ = write!(out, "{call}(DISTINCT ");
                arg.write(out, window);
                out.push(')');
            }
            Node::Alias(e, name) => {
                e.write(out, window);
                let _ = write!(out, " AS {}", quote(name));
            }
            Node::Interval(count, unit) => {
                let _ = write!(out, "INTERVAL '{}' {unit}", count.trim_matches('\''));
            }
            Node::WindowBound(alias, bound) => out.push_str(&window(alias, *bound)),
        }
    }
}

/// `name(arg, ...)`.
fn write_call(
    out: &mut String,
    name: &str,
    args: &[Expression],
    window: &dyn Fn(&str, WindowBound) -> String,
) {
    let _ = write!(out, "{name}(");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        a.write(out, window);
    }
    out.push(')');
}

impl From<&str> for Expression {
    /// A column by name, so that `select(["a", "b"])` reads as in Flink.
    fn from(name: &str) -> Self {
        col(name)
    }
}

/// `name` as a quoted identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
