//! Echoing what someone typed in a message: cut short, control characters escaped, so
//! that a 100 KB argument or an escape sequence never floods or drives the terminal.
//! Every error of the library, and of the crates built on it, echoes input through
//! [`quoted`].

/// The most characters of an input a message repeats.
pub const ECHO_LIMIT: usize = 60;

/// `text` fit to repeat in a message, in single quotes: control characters escaped as
/// Rust writes them (`\n`, `\u{1b}`), and past [`ECHO_LIMIT`] characters cut, saying
/// how long it was.
pub fn quoted(text: &str) -> String {
    let count = text.chars().count();
    let mut out = String::from("'");
    for c in text.chars().take(ECHO_LIMIT) {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    if count > ECHO_LIMIT {
        out.push_str(&format!("… ({count} characters in all)"));
    }
    out
}
