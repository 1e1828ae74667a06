//! SQL scripts: `${NAME}` substitution and splitting into `;`-terminated statements, each
//! with its position in the script (for error messages).

use std::collections::HashMap;

/// One statement of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptStatement {
    /// The statement text without its `;`.
    pub text: String,
    /// 1-based line of the statement's first character in the script.
    pub line: usize,
    /// 1-based column of the statement's first character in the script.
    pub column: usize,
}

/// Replaces `${NAME}` with the value of `NAME` from `vars`, else from the environment, as
/// Flink's `run_sql.sh` does; unknown names stay as they are.
pub fn substitute_vars(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.get(name).cloned().or_else(|| std::env::var(name).ok()) {
                    Some(value) => out.push_str(&value),
                    None => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits a script at the `;` that are outside quotes and comments. Comment-only and empty
/// statements are dropped; `BEGIN STATEMENT SET; ... END;` stays one statement.
pub fn split_statements(script: &str) -> Vec<ScriptStatement> {
    let mut statements = Vec::new();
    let chars: Vec<char> = script.chars().collect();
    let (mut line, mut column) = (1, 1);
    let mut current = String::new();
    let mut start: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let advance = |c: char, line: &mut usize, column: &mut usize| {
            if c == '\n' {
                *line += 1;
                *column = 1;
            } else {
                *column += 1;
            }
        };
        if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                advance(chars[i], &mut line, &mut column);
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                advance(chars[i], &mut line, &mut column);
                i += 1;
            }
            column += 2;
            i += 2;
            continue;
        }
        if c == ';' && !in_statement_set(&current) {
            if let Some((l, c)) = start.take() {
                statements.push(ScriptStatement {
                    text: current.trim().to_string(),
                    line: l,
                    column: c,
                });
            }
            current.clear();
            advance(c, &mut line, &mut column);
            i += 1;
            continue;
        }
        if start.is_none() && !c.is_whitespace() {
            start = Some((line, column));
        }
        if c == '\'' || c == '"' || c == '`' {
            // Copy the quoted text as it is; a doubled quote stays inside.
            current.push(c);
            advance(c, &mut line, &mut column);
            i += 1;
            while i < chars.len() {
                let q = chars[i];
                current.push(q);
                advance(q, &mut line, &mut column);
                i += 1;
                if q == c {
                    if chars.get(i) == Some(&c) {
                        current.push(c);
                        advance(c, &mut line, &mut column);
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            continue;
        }
        current.push(c);
        advance(c, &mut line, &mut column);
        i += 1;
    }
    if let Some((l, c)) = start {
        if !current.trim().is_empty() {
            statements.push(ScriptStatement {
                text: current.trim().to_string(),
                line: l,
                column: c,
            });
        }
    }
    statements
}

/// Whether `text` is an open `EXECUTE STATEMENT SET BEGIN ...` / `BEGIN STATEMENT SET`
/// block that has not reached its `END` yet.
fn in_statement_set(text: &str) -> bool {
    let upper = text.trim_start().to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    let opens = words.starts_with(&["EXECUTE", "STATEMENT", "SET", "BEGIN"])
        || words.starts_with(&["BEGIN", "STATEMENT", "SET"]);
    opens && words.last() != Some(&"END")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_positions_and_keeps_quoted_semicolons() {
        let s = split_statements("SET 'a' = 'x;y';\n-- note;\n  SELECT 1;\nSELECT 2");
        let texts: Vec<_> = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["SET 'a' = 'x;y'", "SELECT 1", "SELECT 2"]);
        assert_eq!((s[1].line, s[1].column), (3, 3));
    }

    #[test]
    fn statement_set_is_one_statement() {
        let s = split_statements(
            "EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END;",
        );
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn substitutes_known_vars_only() {
        let vars = HashMap::from([("DIR".to_string(), "/d".to_string())]);
        assert_eq!(
            substitute_vars("'${DIR}/x' ${WEIR_SURELY_UNSET}", &vars),
            "'/d/x' ${WEIR_SURELY_UNSET}"
        );
    }
}
