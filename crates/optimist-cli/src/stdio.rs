//! Writing to the terminal without panicking: a closed pipe ends the command quietly,
//! any other failure of standard output (a full disk) is an error; messages on standard
//! error are best effort, having nowhere else to go.

use crate::Failure;
use std::io::Write;

/// A line on standard error; a failure to write it is ignored (there is nowhere left to
/// report it).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::stdio::say_args(format_args!($($arg)*))
    };
}

/// What [`say!`] calls.
pub fn say_args(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// Writes `text` to standard output and flushes it.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_failure)
}

/// The failure for an error writing to standard output: quiet for a closed pipe.
pub fn stdout_failure(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::quiet()
    } else {
        Failure::runtime(format!("cannot write to standard output: {e}")).because(e)
    }
}
