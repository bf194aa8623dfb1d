//! Echoing what someone typed in a message: cut short, control characters escaped, so
//! that a 100 KB argument or an escape sequence never floods or drives the terminal.

/// The one quoting of echoed input, shared with the library's errors.
pub use optimist::text::{quoted, ECHO_LIMIT};

/// A number for a message: as typed for everyday magnitudes, in exponent form (`1e308`,
/// `2.5e-12`) for very large or small ones, never hundreds of digits.
pub fn number(x: f64) -> String {
    let plain = format!("{x}");
    // Short plain forms (0.000001) stay plain whatever the magnitude.
    if !x.is_finite() || (1e-5..1e15).contains(&x.abs()) || plain.len() <= 10 {
        plain
    } else {
        format!("{x:e}")
    }
}

/// Characters of a text shown on either side of a column [`pointed`] points at.
const CONTEXT: usize = 30;

/// `text` on one line with a caret under column `column` (1 for the first character),
/// each indented by two spaces; control characters escaped, and a long text cut to
/// the part around the column.
pub fn pointed(text: &str, column: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = column.saturating_sub(1);
    let start = at.saturating_sub(CONTEXT);
    let end = (at + CONTEXT + 1).min(chars.len());
    let shown = |c: char| -> String {
        if c.is_control() {
            c.escape_debug().collect()
        } else {
            c.to_string()
        }
    };
    let mut line = String::new();
    let mut caret = 0;
    if start > 0 {
        line.push('…');
    }
    for (i, &c) in chars.iter().enumerate().take(end).skip(start) {
        if i == at {
            caret = line.chars().count();
        }
        line.push_str(&shown(c));
    }
    if at >= end {
        caret = line.chars().count();
    }
    if end < chars.len() {
        line.push('…');
    }
    format!("  {line}\n  {}^", " ".repeat(caret))
}

/// A message fit for the terminal: control characters other than line breaks escaped,
/// and lines longer than [`LINE_LIMIT`] characters cut, saying how long they were.
pub fn clean_message(message: &str) -> String {
    message
        .split('\n')
        .map(|line| {
            let count = line.chars().count();
            let mut out: String = line
                .chars()
                .take(LINE_LIMIT)
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        c.escape_debug().collect()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            if count > LINE_LIMIT {
                out.push_str(&format!("… ({count} characters in all)"));
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The longest line [`clean_message`] lets through.
pub const LINE_LIMIT: usize = 400;

#[cfg(test)]
mod tests {
    #[test]
    fn a_caret_points_into_a_window_of_the_text() {
        assert_eq!(pointed("x^2 + $", 7), "  x^2 + $\n        ^");
        assert_eq!(pointed("x +", 4), "  x +\n     ^");
        assert_eq!(pointed("a\u{1b}b", 2), "  a\\u{1b}b\n   ^");
        let long = format!("{}${}", "x+".repeat(50_000), "y".repeat(50_000));
        let p = pointed(&long, 100_001);
        assert!(p.len() < 200, "{p}");
        let (line, caret) = p.split_once('\n').unwrap();
        let col = caret.chars().count() - 1;
        assert_eq!(line.chars().nth(col), Some('$'), "{p}");
    }

    #[test]
    fn messages_are_cleaned_line_by_line() {
        assert_eq!(clean_message("a\nb\u{7}c"), "a\nb\\u{7}c");
        let long = "z".repeat(100_000);
        let m = clean_message(&format!("error: '{long}' is bad\nnext"));
        assert!(m.len() < 500, "{}", m.len());
        assert!(m.ends_with("… (100016 characters in all)\nnext"), "{m}");
    }

    use super::*;

    #[test]
    fn numbers_stay_short() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(-2.5), "-2.5");
        assert_eq!(number(1e308), "1e308");
        assert_eq!(number(-1.5e-300), "-1.5e-300");
        assert_eq!(number(1.0000000000000002), "1.0000000000000002");
        assert_eq!(number(f64::INFINITY), "inf");
        assert_eq!(number(1e-6), "0.000001");
        assert_eq!(number(1.0000000000000003e-9), "1.0000000000000003e-9");
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
