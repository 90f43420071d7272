//! A tiny indentation-aware text builder for emitting Rust.

#[derive(Default)]
pub struct Code {
    text: String,
    indent: usize,
}

impl Code {
    /// Appends one or more lines (a multi-line snippet keeps its own relative indentation).
    pub fn line(&mut self, snippet: &str) {
        for line in snippet.lines() {
            if line.trim().is_empty() {
                self.text.push('\n');
            } else {
                for _ in 0..self.indent {
                    self.text.push_str("    ");
                }
                self.text.push_str(line);
                self.text.push('\n');
            }
        }
    }

    pub fn blank(&mut self) {
        self.text.push('\n');
    }

    /// Appends `head` and indents what follows until `close`.
    pub fn open(&mut self, head: &str) {
        self.line(head);
        self.indent += 1;
    }

    pub fn close(&mut self, tail: &str) {
        self.indent = self.indent.saturating_sub(1);
        self.line(tail);
    }

    pub fn doc(&mut self, prefix: &str, text: &str) {
        for line in text.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                self.line(prefix);
            } else {
                self.line(&format!("{prefix} {line}"));
            }
        }
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// Indents every line of a snippet after the first by `levels` steps, so that a multi-line
/// expression can be nested inside another.
pub fn nest(snippet: &str, levels: usize) -> String {
    let pad = "    ".repeat(levels);
    let mut out = String::new();
    for (i, line) in snippet.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str(&pad);
            }
        }
        out.push_str(line);
    }
    out
}
