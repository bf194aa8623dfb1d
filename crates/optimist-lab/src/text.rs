//! Echoing what someone typed in a message: cut short, control characters escaped, so
//! that a 100 KB argument or an escape sequence never floods or drives the terminal.

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

/// A number for a message: as typed for everyday magnitudes, in exponent form (`1e308`,
/// `2.5e-12`) for very large or small ones, never hundreds of digits.
pub fn number(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-5..1e15).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_short() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(-2.5), "-2.5");
        assert_eq!(number(1e308), "1e308");
        assert_eq!(number(-1.5e-300), "-1.5e-300");
        assert_eq!(number(1.0000000000000002), "1.0000000000000002");
        assert_eq!(number(f64::INFINITY), "inf");
    }

    #[test]
    fn inputs_are_escaped_and_cut() {
        assert_eq!(quoted("x^2"), "'x^2'");
        assert_eq!(quoted("a\nb\u{1b}[31m"), "'a\\nb\\u{1b}[31m'");
        let long = "y".repeat(100_000);
        let q = quoted(&long);
        assert!(q.len() < 120, "{q}");
        assert!(q.ends_with("… (100000 characters in all)"), "{q}");
        assert_eq!(
            quoted(&"é".repeat(ECHO_LIMIT)).chars().count(),
            ECHO_LIMIT + 2
        );
    }
}
