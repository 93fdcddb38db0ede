//! Results on stdout (text or JSON), errors as one line, and exit codes.

use std::fmt;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::cli::OutputFormat;

/// Where results go, and in which format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    format: OutputFormat,
}

impl Out {
    pub(crate) fn new(format: OutputFormat) -> Self {
        Out { format }
    }

    /// Whether results are JSON.
    pub(crate) fn json(self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Prints one result: `text` for people, `value` as one JSON line.
    pub(crate) fn emit(self, text: impl fmt::Display, value: &Value) {
        if self.json() {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }

    /// Prints an error as one line (stderr for text, a JSON line on stdout for JSON) and
    /// returns its exit code.
    pub(crate) fn fail(self, e: &CliError) -> ExitCode {
        let one_line = e.message.replace(['\n', '\r'], " ");
        if self.json() {
            println!(
                "{}",
                json!({ "error": { "kind": e.kind, "message": one_line } })
            );
        } else {
            eprintln!("error: {one_line}");
        }
        ExitCode::from(e.code)
    }
}

/// A command that did not run to its end.
#[derive(Debug)]
pub(crate) struct CliError {
    /// The process exit code.
    pub(crate) code: u8,
    /// A short machine-readable kind (`config`, `not_found`, the core error kind, …).
    pub(crate) kind: String,
    /// One sentence.
    pub(crate) message: String,
}

impl CliError {
    /// Bad input or configuration: exit code 2.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            kind: "usage".into(),
            message: message.into(),
        }
    }

    /// An operation that failed: exit code 1.
    pub(crate) fn failed(kind: impl Into<String>, message: impl Into<String>) -> Self {
        CliError {
            code: 1,
            kind: kind.into(),
            message: message.into(),
        }
    }

    /// A library error: configuration and invalid input exit 2, the rest 1.
    pub(crate) fn lib(e: &accesslink::Error) -> Self {
        use accesslink::ErrorKind;
        let kind = e.kind();
        let code = match kind {
            ErrorKind::Config | ErrorKind::InvalidInput => 2,
            _ => 1,
        };
        // The facade wraps an instance's configuration error in another one; say it once.
        let mut message = e.to_string();
        const PREFIX: &str = "invalid configuration: ";
        if let Some(first) = message.find(PREFIX) {
            let rest = message.split_off(first + PREFIX.len());
            message.push_str(&rest.replace(PREFIX, ""));
        }
        CliError {
            code,
            kind: kind_name(kind),
            message,
        }
    }
}

impl From<accesslink::Error> for CliError {
    fn from(e: accesslink::Error) -> Self {
        CliError::lib(&e)
    }
}

/// The snake_case name of an error kind, from its `Debug` form.
pub(crate) fn kind_name(kind: accesslink::ErrorKind) -> String {
    snake(&format!("{kind:?}"))
}

/// `EmptyPage` → `empty_page`.
pub(crate) fn snake(debug: &str) -> String {
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
