//! The pre-pass that turns Flink-only syntax into SQL that sqlparser and DataFusion accept:
//! plural interval units (`INTERVAL '10' MINUTES`), `FLOOR(ts TO HOUR)`, window
//! table-valued functions (`TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' MINUTES))`),
//! which become scans of a generated table name described by a [`WindowTvf`], and the
//! auxiliary functions of legacy group windows (`TUMBLE_START(ts, INTERVAL '1' HOUR)`), which
//! become fields of the group window they belong to (see [`crate::group_window`]); lateral
//! table function calls (`LATERAL TABLE(f(x))` and `JOIN UNNEST(a) [WITH ORDINALITY]`),
//! which become `LATERAL f(x)` (see [`crate::plan`]'s Correlate).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Result, SqlError};

/// Which kind of window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowKind {
    /// `TUMBLE(data, timecol, size [, offset])`.
    Tumble,
    /// `HOP(data, timecol, slide, size [, offset])`.
    Hop,
    /// `CUMULATE(data, timecol, step, size [, offset])`.
    Cumulate,
    /// `SESSION(data [PARTITION BY keys], timecol, gap)`.
    Session,
}

impl WindowKind {
    /// The function's SQL name.
    pub fn name(self) -> &'static str {
        match self {
            WindowKind::Tumble => "TUMBLE",
            WindowKind::Hop => "HOP",
            WindowKind::Cumulate => "CUMULATE",
            WindowKind::Session => "SESSION",
        }
    }
}

/// The shape of a window: how rows are assigned to windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// The kind of window.
    pub kind: WindowKind,
    /// Window size in milliseconds (the max size for `CUMULATE`, the gap for `SESSION`).
    pub size_ms: i64,
    /// `HOP`'s slide or `CUMULATE`'s step in milliseconds; the size otherwise.
    pub step_ms: i64,
    /// The offset of window starts in milliseconds.
    pub offset_ms: i64,
}

/// A window TVF call found in a query.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowTvf {
    /// The generated table name that replaces the call in the query.
    pub alias: String,
    /// The table or view the windows are laid over.
    pub input: String,
    /// The time attribute column (`DESCRIPTOR(ts)`).
    pub time_column: String,
    /// `SESSION`'s `PARTITION BY` columns: sessions are formed per value of these.
    pub partition_by: Vec<String>,
    /// The windows.
    pub spec: WindowSpec,
}

/// Numbers the aliases of window TVFs across queries and views, so that a view's TVFs keep
/// their names in the queries that read the view.
static NEXT_WINDOW_ALIAS: AtomicUsize = AtomicUsize::new(0);

static PLURAL_INTERVAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(INTERVAL\s+'[^']*'\s+)(SECOND|MINUTE|HOUR|DAY|MONTH|YEAR)S\b").unwrap()
});
static INTERVAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^INTERVAL\s+'\s*(\d+)\s*'\s+(MILLISECOND|SECOND|MINUTE|HOUR|DAY)S?$").unwrap()
});
static FLOOR_CEIL_TO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(FLOOR|CEIL)\s*\(").unwrap());
static WINDOW_TVF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bTABLE\s*\(\s*(TUMBLE|HOP|CUMULATE|SESSION)\s*\(").unwrap());
static GROUP_WINDOW_PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(TUMBLE|HOP|SESSION)_(START|END|ROWTIME)\s*\(").unwrap());
static PARTITION_BY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)^(.*?)\s+PARTITION\s+BY\s*(.+)$").unwrap());

static LATERAL_TABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bLATERAL\s+TABLE\s*\(").unwrap());
static JOIN_UNNEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(\bJOIN|,)\s*(LATERAL\s+)?UNNEST\s*\(").unwrap());
static WITH_ORDINALITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*WITH\s+ORDINALITY\b").unwrap());

/// Flink syntax that Weir cannot run yet, and what to say where it appears.
static UNSUPPORTED: LazyLock<Vec<(Regex, &str)>> = LazyLock::new(|| {
    vec![(
        Regex::new(r"(?i)\bFOR\s+SYSTEM_TIME\s+AS\s+OF\b").unwrap(),
        "temporal joins (FOR SYSTEM_TIME AS OF) are not supported by Weir yet; use a \
         regular or interval join",
    )]
});

/// The error for the first unsupported syntax in `sql`, at its position.
fn check_supported(sql: &str) -> Result<()> {
    let found = UNSUPPORTED
        .iter()
        .filter_map(|(pattern, message)| pattern.find(sql).map(|m| (m.start(), *message)))
        .min_by_key(|(start, _)| *start);
    match found {
        None => Ok(()),
        Some((start, message)) => Err(SqlError::at(sql, start, message)),
    }
}

/// A rewritten query and the window TVFs it used.
#[derive(Debug, Clone)]
pub struct Rewritten {
    /// SQL that sqlparser accepts.
    pub sql: String,
    /// The window TVFs, by the generated table names the query now scans.
    pub windows: Vec<WindowTvf>,
}

/// Rewrites Flink-only syntax in `sql`.
pub fn rewrite(sql: &str) -> Result<Rewritten> {
    check_supported(sql)?;
    let sql = PLURAL_INTERVAL.replace_all(sql, "$1$2").into_owned();
    let sql = rewrite_floor_ceil(&sql);
    let sql = rewrite_lateral_calls(&sql)?;
    let mut windows = Vec::new();
    let mut out = sql;
    while let Some(caps) = WINDOW_TVF.captures(&out) {
        let (start, args_start) = caps
            .get(0)
            .map(|m| (m.start(), m.end()))
            .unwrap_or_default();
        let kind = match caps[1].to_ascii_uppercase().as_str() {
            "TUMBLE" => WindowKind::Tumble,
            "HOP" => WindowKind::Hop,
            "SESSION" => WindowKind::Session,
            _ => WindowKind::Cumulate,
        };
        let inner_end = matching_paren(&out, args_start).ok_or_else(|| {
            SqlError::plan(format!("unclosed parenthesis in {}(...)", kind.name()))
        })?;
        let outer_end = matching_paren(&out, inner_end + 1)
            .filter(|e| out[inner_end + 1..*e].trim().is_empty())
            .ok_or_else(|| SqlError::plan(format!("expected ')' after {}(...)", kind.name())))?;
        let args = split_top_level(&out[args_start..inner_end]);
        let alias = format!(
            "__window_tvf_{}",
            NEXT_WINDOW_ALIAS.fetch_add(1, Ordering::Relaxed)
        );
        windows.push(window_tvf(kind, &args, alias.clone())?);
        out.replace_range(start..=outer_end, &alias);
    }
    Ok(Rewritten {
        sql: rewrite_group_window_properties(&out),
        windows,
    })
}

/// `sql` with `LATERAL TABLE(f(x))` as `LATERAL f(x)`, and `JOIN UNNEST(a)` (or `, UNNEST(a)`)
/// as `JOIN LATERAL weir_unnest(a)` (`weir_unnest_ordinality` `WITH ORDINALITY`).
fn rewrite_lateral_calls(sql: &str) -> Result<String> {
    let mut out = sql.to_string();
    while let Some(m) = LATERAL_TABLE.find(&out) {
        let (start, args_start) = (m.start(), m.end());
        let end = matching_paren(&out, args_start)
            .ok_or_else(|| SqlError::plan("unclosed parenthesis in LATERAL TABLE(...)"))?;
        let call = out[args_start..end].to_string();
        out.replace_range(start..=end, &format!("LATERAL {call}"));
    }
    let mut from = 0;
    while let Some(caps) = JOIN_UNNEST.captures(&out[from..]) {
        let (Some(whole), Some(join)) = (caps.get(0), caps.get(1)) else {
            break;
        };
        let (start, args_start) = (from + whole.start(), from + whole.end());
        let join = join.as_str().to_string();
        let end = matching_paren(&out, args_start)
            .ok_or_else(|| SqlError::plan("unclosed parenthesis in UNNEST(...)"))?;
        let args = out[args_start..end].to_string();
        let ordinality = WITH_ORDINALITY.find(&out[end + 1..]).map(|m| m.end());
        let function = match ordinality {
            Some(_) => crate::functions::UNNEST_WITH_ORDINALITY,
            None => crate::functions::UNNEST,
        };
        let replaced = format!("{join} LATERAL {function}({args})");
        out.replace_range(start..=end + ordinality.unwrap_or(0), &replaced);
        from = start + replaced.len();
    }
    Ok(out)
}

/// Parses the arguments of a window TVF (positional, or named `DATA => ...`).
fn window_tvf(kind: WindowKind, args: &[String], alias: String) -> Result<WindowTvf> {
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.split_once("=>").map_or(a.as_str(), |(_, v)| v).trim())
        .collect();
    let usage = match kind {
        WindowKind::Tumble => "TUMBLE(TABLE t, DESCRIPTOR(ts), size [, offset])",
        WindowKind::Hop => "HOP(TABLE t, DESCRIPTOR(ts), slide, size [, offset])",
        WindowKind::Cumulate => "CUMULATE(TABLE t, DESCRIPTOR(ts), step, size [, offset])",
        WindowKind::Session => "SESSION(TABLE t [PARTITION BY keys], DESCRIPTOR(ts), gap)",
    };
    let (fixed, optional) = match kind {
        WindowKind::Tumble => (3, 1),
        WindowKind::Session => (3, 0),
        _ => (4, 1),
    };
    if args.len() < fixed || args.len() > fixed + optional {
        return Err(SqlError::plan(format!(
            "{} takes {fixed}{} arguments, not {}: {usage}",
            kind.name(),
            if optional > 0 {
                format!(" or {}", fixed + 1)
            } else {
                String::new()
            },
            args.len()
        )));
    }
    let table = strip_call(args[0], "TABLE ").ok_or_else(|| {
        SqlError::plan(format!("expected TABLE name as first argument of {usage}"))
    })?;
    let (input, partition_by) = match PARTITION_BY.captures(table) {
        Some(caps) if kind == WindowKind::Session => (
            caps[1].trim().to_string(),
            split_top_level(caps[2].trim().trim_start_matches('(').trim_end_matches(')'))
                .into_iter()
                .map(|k| unquoted(&k))
                .collect(),
        ),
        Some(_) => {
            return Err(SqlError::plan(format!(
                "{}: PARTITION BY is only allowed in SESSION windows: {usage}",
                kind.name()
            )))
        }
        None => (table.trim().to_string(), Vec::new()),
    };
    let time_column = strip_call(args[1], "DESCRIPTOR")
        .map(|c| unquoted(c.trim_matches(|c| c == '(' || c == ')')))
        .ok_or_else(|| {
            SqlError::plan(format!(
                "expected DESCRIPTOR(column) as second argument of {usage}"
            ))
        })?;
    let first = interval_ms(args[2])?;
    let (size_ms, step_ms) = match kind {
        WindowKind::Tumble | WindowKind::Session => (first, first),
        _ => (interval_ms(args[3])?, first),
    };
    let offset_ms = match args.get(fixed) {
        Some(a) => interval_ms(a)?,
        None => 0,
    };
    let spec = WindowSpec {
        kind,
        size_ms,
        step_ms,
        offset_ms,
    };
    check_spec(&spec, usage)?;
    Ok(WindowTvf {
        alias,
        input,
        time_column,
        partition_by,
        spec,
    })
}

/// Fails unless the sizes of `spec` are positive and the size a multiple of the slide or step.
pub fn check_spec(spec: &WindowSpec, usage: &str) -> Result<()> {
    let aligned = matches!(spec.kind, WindowKind::Hop | WindowKind::Cumulate);
    if spec.step_ms <= 0 || spec.size_ms <= 0 || (aligned && spec.size_ms % spec.step_ms != 0) {
        return Err(SqlError::plan(format!(
            "{}: the size must be a positive multiple of the slide or step: {usage}",
            spec.kind.name()
        )));
    }
    Ok(())
}

/// A column name without backquotes.
fn unquoted(name: &str) -> String {
    name.trim().trim_matches('`').trim().to_string()
}

/// `TABLE t` → `t`; `DESCRIPTOR(x)` → `(x)`.
fn strip_call<'a>(arg: &'a str, prefix: &str) -> Option<&'a str> {
    let head = arg.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &arg[prefix.len()..])
}

/// Milliseconds of `INTERVAL 'n' UNIT`.
pub fn interval_ms(text: &str) -> Result<i64> {
    let caps = INTERVAL.captures(text.trim()).ok_or_else(|| {
        SqlError::plan(format!(
            "expected an interval such as INTERVAL '10' MINUTES, found {text}"
        ))
    })?;
    let n: i64 = caps[1]
        .parse()
        .map_err(|_| SqlError::plan(format!("interval too large: {text}")))?;
    let unit = match caps[2].to_ascii_uppercase().as_str() {
        "MILLISECOND" => 1,
        "SECOND" => 1_000,
        "MINUTE" => 60_000,
        "HOUR" => 3_600_000,
        _ => 86_400_000,
    };
    Ok(n * unit)
}

/// `FLOOR(x TO UNIT)` → `date_trunc('unit', x)`; `CEIL(x TO UNIT)` → the next boundary
/// unless `x` is on one.
fn rewrite_floor_ceil(sql: &str) -> String {
    let mut out = sql.to_string();
    let mut from = 0;
    while let Some((start, args)) = FLOOR_CEIL_TO
        .find_at(&out, from)
        .map(|m| (m.start(), m.end()))
    {
        from = args;
        let Some(end) = matching_paren(&out, args) else {
            break;
        };
        let inner = &out[args..end];
        let Some(to) = find_top_level_keyword(inner, " TO ") else {
            continue;
        };
        let expr = inner[..to].trim().to_string();
        let unit = inner[to + 4..].trim().to_ascii_lowercase();
        let truncated = format!("date_trunc('{unit}', {expr})");
        let replacement = if out[start..start + 4].eq_ignore_ascii_case("ceil") {
            format!(
                "(CASE WHEN {truncated} = {expr} THEN {truncated} ELSE {truncated} + INTERVAL '1' {unit} END)"
            )
        } else {
            truncated
        };
        out.replace_range(start..=end, &replacement);
        from = start + replacement.len();
    }
    out
}

/// `TUMBLE_START(ts, size)` → `get_field(TUMBLE(ts, size), 'start')`: the property of the
/// group window `TUMBLE(ts, size)` (likewise `_END`, `_ROWTIME`, and `HOP`, `SESSION`).
fn rewrite_group_window_properties(sql: &str) -> String {
    let mut out = sql.to_string();
    let mut from = 0;
    while let Some(caps) = GROUP_WINDOW_PROPERTY.captures_at(&out, from) {
        let (start, args) = caps
            .get(0)
            .map(|m| (m.start(), m.end()))
            .unwrap_or_default();
        let Some(end) = matching_paren(&out, args) else {
            break;
        };
        let field = match caps[2].to_ascii_uppercase().as_str() {
            "START" => crate::group_window::START,
            "END" => crate::group_window::END,
            _ => crate::group_window::ROWTIME,
        };
        let replacement = format!("get_field({}({}), '{field}')", &caps[1], &out[args..end]);
        out.replace_range(start..=end, &replacement);
        from = start + replacement.len();
    }
    out
}

/// The byte index of the `)` that closes the parenthesis opened just before `start`.
fn matching_paren(s: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, c) in s[start..].char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                if depth == 0 {
                    return Some(start + i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// Splits at commas outside parentheses and quotes.
fn split_top_level(s: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quoted) = (Vec::new(), String::new(), 0, false);
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current.trim().to_string());
    parts
}

/// The index of `keyword` (case-insensitive) outside parentheses and quotes.
fn find_top_level_keyword(s: &str, keyword: &str) -> Option<usize> {
    let upper = s.to_ascii_uppercase();
    let (mut depth, mut quoted) = (0i32, false);
    for (i, c) in s.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && upper[i..].starts_with(keyword) => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_window_tvf() {
        let r = rewrite(
            "SELECT * FROM TABLE(HOP(TABLE bids, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES)) x",
        )
        .unwrap();
        let w = &r.windows[0];
        assert!(w.alias.starts_with("__window_tvf_"), "{}", w.alias);
        assert_eq!(r.sql, format!("SELECT * FROM {} x", w.alias));
        assert_eq!(
            (w.spec.kind, w.input.as_str(), w.time_column.as_str()),
            (WindowKind::Hop, "bids", "bidtime")
        );
        assert_eq!((w.spec.step_ms, w.spec.size_ms), (300_000, 600_000));
    }

    #[test]
    fn rewrites_floor_to_and_plural_units() {
        let r = rewrite("SELECT FLOOR(ts TO HOUR), ts - INTERVAL '2' SECONDS FROM t").unwrap();
        assert_eq!(
            r.sql,
            "SELECT date_trunc('hour', ts), ts - INTERVAL '2' SECOND FROM t"
        );
    }

    #[test]
    fn rewrites_session_tvf_with_partition_keys() {
        let r = rewrite(
            "SELECT * FROM TABLE(SESSION(TABLE bids PARTITION BY (item, `supplier`), DESCRIPTOR(ts), INTERVAL '5' MINUTES))",
        )
        .unwrap();
        let w = &r.windows[0];
        assert_eq!(w.spec.kind, WindowKind::Session);
        assert_eq!(w.input, "bids");
        assert_eq!(w.partition_by, ["item", "supplier"]);
        assert_eq!(w.spec.size_ms, 300_000);
        let err = rewrite("SELECT * FROM TABLE(TUMBLE(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' SECOND))")
            .unwrap_err();
        assert!(err.to_string().contains("only allowed in SESSION"), "{err}");
    }

    #[test]
    fn rewrites_group_window_properties() {
        let r = rewrite(
            "SELECT HOP_END(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) FROM t GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE)",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT get_field(HOP(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE), 'end') FROM t GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE)"
        );
        assert!(r.windows.is_empty());
    }

    #[test]
    fn bad_tvf_arguments_say_the_usage() {
        let err = rewrite("SELECT * FROM TABLE(TUMBLE(TABLE t, INTERVAL '1' SECOND))").unwrap_err();
        assert!(
            err.to_string()
                .contains("TUMBLE(TABLE t, DESCRIPTOR(ts), size"),
            "{err}"
        );
    }
}
