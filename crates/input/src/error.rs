use std::fmt;

/// One problem in one input file, at a line when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

use pingan_core::text::visible;

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, visible(&self.message)),
            None => write!(f, "{}: {}", self.file, visible(&self.message)),
        }
    }
}

/// Every problem found (up to a limit), so a department can fix a file in
/// one round instead of one error at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputErrors(pub Vec<InputError>);

/// Past this many errors the file is clearly not what was meant.
pub const MAX_ERRORS: usize = 50;

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.0.len() >= MAX_ERRORS {
            write!(f, "\n（错误过多，仅显示前 {MAX_ERRORS} 条）")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

impl InputErrors {
    pub fn one(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        InputErrors(vec![InputError {
            file: file.to_string(),
            line,
            message: message.into(),
        }])
    }
}

/// Collects errors for one file, stopping at `MAX_ERRORS`.
pub(crate) struct Collector<'a> {
    pub file: &'a str,
    pub errors: Vec<InputError>,
}

impl<'a> Collector<'a> {
    pub fn new(file: &'a str) -> Self {
        Collector {
            file,
            errors: Vec::new(),
        }
    }

    pub fn push(&mut self, line: Option<usize>, message: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(InputError {
                file: self.file.to_string(),
                line,
                message: message.into(),
            });
        }
    }

    pub fn full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS
    }

    /// The value, or the errors in the order of the file's lines (a
    /// reader may find a row's problems after a later row's: checks run a
    /// block at a time, the splitting as it goes).
    pub fn finish<T>(mut self, value: T) -> Result<T, InputErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            self.errors.sort_by_key(|e| e.line);
            Err(InputErrors(self.errors))
        }
    }
}
