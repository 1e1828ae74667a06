//! Where the interactive `weir sql` reads its lines: on a terminal, a line editor with
//! history kept in a file (as Flink's SQL client keeps `~/.flink-sql-history`); from a pipe or
//! a file, plain lines.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

/// What the user typed.
pub enum Input {
    /// A line (without its end of line; a recalled multi-line statement holds several).
    Line(String),
    /// Ctrl-C: drop the statement being typed.
    Cancel,
    /// Ctrl-D or the end of the input.
    End,
}

/// The source of the client's lines.
pub enum LineReader {
    /// A terminal: line editing, and `history` recalled with the arrow keys.
    Editor {
        editor: Box<DefaultEditor>,
        history: Option<PathBuf>,
    },
    /// Not a terminal: lines as they come.
    Plain(std::io::Lines<std::io::StdinLock<'static>>),
}

impl LineReader {
    /// A line editor when standard input is a terminal (loading `history` if it exists), else
    /// plain lines.
    pub fn open(history: Option<PathBuf>) -> Result<Self, String> {
        if !std::io::stdin().is_terminal() {
            return Ok(LineReader::Plain(std::io::stdin().lock().lines()));
        }
        let mut editor =
            DefaultEditor::new().map_err(|e| format!("cannot start the line editor: {e}"))?;
        if let Some(path) = history.as_ref().filter(|p| p.exists()) {
            editor
                .load_history(path)
                .map_err(|e| format!("cannot read the history file {}: {e}", path.display()))?;
        }
        Ok(LineReader::Editor {
            editor: Box::new(editor),
            history,
        })
    }

    /// The next line, after showing `prompt`.
    pub fn read(&mut self, prompt: &str) -> Result<Input, String> {
        match self {
            LineReader::Editor { editor, .. } => match editor.readline(prompt) {
                Ok(line) => Ok(Input::Line(line)),
                Err(ReadlineError::Interrupted) => Ok(Input::Cancel),
                Err(ReadlineError::Eof) => Ok(Input::End),
                Err(e) => Err(format!("reading the terminal: {e}")),
            },
            LineReader::Plain(lines) => {
                let mut out = std::io::stdout();
                let _ = write!(out, "{prompt}");
                let _ = out.flush();
                match lines.next() {
                    Some(line) => line
                        .map(Input::Line)
                        .map_err(|e| format!("reading standard input: {e}")),
                    None => Ok(Input::End),
                }
            }
        }
    }

    /// Keeps a complete statement in the history (one entry, saved to the file at once, so
    /// that a client killed later keeps it).
    pub fn remember(&mut self, statement: &str) {
        if let LineReader::Editor { editor, history } = self {
            let _ = editor.add_history_entry(statement);
            if let Some(path) = history {
                if let Err(e) = editor.save_history(path) {
                    eprintln!(
                        "[WARNING] cannot write the history file {}: {e}",
                        path.display()
                    );
                }
            }
        }
    }
}
