//! The options that pick a landscape, its window and the start, shared by `compare` and
//! `tune`, and their checks.

use crate::Failure;
use optimist_lab::landscape::formula::{Formula, DEFAULT_WINDOW};
use optimist_lab::landscape::{self, Landscape, Window};
use optimist_lab::text::number;

/// `--function`, `--window`, `--start`.
#[derive(Debug, Clone, clap::Args)]
pub struct LandscapeArgs {
    /// The landscape: a built-in's name (see `optimist list landscapes`) or a formula in
    /// x and y, e.g. --function "x^2/20 + y^2" [default: article]
    #[arg(long, value_name = "NAME|FORMULA", allow_hyphen_values = true)]
    function: Option<String>,

    /// The plotting window XMIN,XMAX,YMIN,YMAX, e.g. --window=-2,2,-1,3 [default: the
    /// built-in's; -5,5,-5,5 for a formula; on the article's landscape, compare frames
    /// the paths with a margin (its own window: --window=-10,10,-10,10)]
    #[arg(long, value_name = "XMIN,XMAX,YMIN,YMAX", allow_hyphen_values = true, value_parser = parse_window)]
    window: Option<Window>,

    /// Start point X,Y, e.g. --start=-7,2 [default: the landscape's classic start;
    /// -7,2 for the article's]
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true, value_parser = parse_start)]
    start: Option<(f64, f64)>,
}

/// A landscape ready to race on.
pub struct Problem {
    /// The landscape, in the window to show.
    pub landscape: Box<dyn Landscape>,
    /// Where every run starts.
    pub start: (f64, f64),
    /// Whether it is the article's landscape (the default race's).
    pub is_article: bool,
    /// Whether the figures frame the paths rather than show the landscape's window:
    /// on the built-in article's landscape without `--window`, whose ±10 window leaves
    /// most of each panel empty.
    pub frame_paths: bool,
}

fn parse_numbers(text: &str, count: usize) -> Option<Vec<f64>> {
    let values: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()?;
    (values.len() == count).then_some(values)
}

/// `X,Y`: two finite numbers.
pub fn parse_start(text: &str) -> Result<(f64, f64), String> {
    let shown = optimist_lab::text::quoted(text);
    parse_numbers(text, 2)
        .map(|v| (v[0], v[1]))
        .ok_or_else(|| format!("{shown} is not two finite numbers X,Y (e.g. -7,2)"))
}

/// `XMIN,XMAX,YMIN,YMAX`: four finite numbers, each minimum below its maximum.
fn parse_window(text: &str) -> Result<Window, String> {
    let shown = optimist_lab::text::quoted(text);
    let v = parse_numbers(text, 4).ok_or_else(|| {
        format!("{shown} is not four finite numbers XMIN,XMAX,YMIN,YMAX (e.g. -2,2,-1,3)")
    })?;
    Window::new(v[0], v[1], v[2], v[3])
}

/// Text that can only be meant as a name: a word, perhaps with hyphens.
fn looks_like_a_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl LandscapeArgs {
    /// The landscape, window and start asked for, checked: an unknown name, a formula
    /// that does not parse, or a start where f or its gradient is not finite is an
    /// error; a start outside the window is a warning (on stderr).
    pub fn resolve(&self) -> Result<Problem, Failure> {
        let text = self.function.as_deref().unwrap_or("article").trim();
        let builtin = landscape::builtins()
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(text));
        let landscape: Box<dyn Landscape> = match builtin {
            Some(b) => match self.window {
                Some(w) => Box::new(b.with_window(w)),
                None => Box::new(b),
            },
            None => {
                let formula = Formula::parse(text).map_err(|e| {
                    if looks_like_a_name(text) {
                        unknown_function(text, &e)
                    } else {
                        Failure::usage(format!("--function: {e}"))
                    }
                })?;
                let window = self.window.unwrap_or_else(|| {
                    say!(
                        "note: showing {} (the default for a formula); choose another with --window XMIN,XMAX,YMIN,YMAX",
                        DEFAULT_WINDOW
                    );
                    DEFAULT_WINDOW
                });
                Box::new(formula.with_window(window))
            }
        };
        let start = self.start.unwrap_or_else(|| landscape.start());
        let (x, y) = start;
        let value = landscape.value(x, y);
        let (gx, gy) = landscape.gradient(x, y);
        let (x, y) = (number(x), number(y));
        if !(value.is_finite() && gx.is_finite() && gy.is_finite()) {
            return Err(Failure::usage(format!(
                "f(x, y) = {} is not finite at the start ({x}, {y}): f = {value}, gradient ({gx}, {gy}); choose another start with --start X,Y",
                landscape.formula()
            )));
        }
        let window = landscape.window();
        if !window.contains(start.0, start.1) {
            say!(
                "warning: the start ({x}, {y}) lies outside the window {window}; the figures show the trajectories only inside it (widen it with --window)"
            );
        }
        Ok(Problem {
            is_article: is_the_article(landscape.as_ref()),
            frame_paths: self.window.is_none()
                && builtin.is_some_and(|b| b.name() == optimist_lab::landscape::article().name()),
            landscape,
            start,
        })
    }
}

/// Whether `landscape` is the article's x²/20 + y², built in or typed: a formula whose
/// value and gradient agree with the article's on a grid over its window is raced as
/// the article's (30 steps, its optimizers' rates without a note).
fn is_the_article(landscape: &dyn Landscape) -> bool {
    let article = optimist_lab::landscape::article();
    if landscape.name() == article.name() {
        return true;
    }
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
    let w = article.window();
    (0..=8).all(|i| {
        (0..=8).all(|j| {
            let x = w.x_min + (w.x_max - w.x_min) * (i as f64 + 0.3) / 8.5;
            let y = w.y_min + (w.y_max - w.y_min) * (j as f64 + 0.7) / 8.5;
            let (a, b) = (article.gradient(x, y), landscape.gradient(x, y));
            close(article.value(x, y), landscape.value(x, y)) && close(a.0, b.0) && close(a.1, b.1)
        })
    })
}

impl Problem {
    /// The landscape's name for messages: `rosenbrock`, or the formula.
    pub fn describe(&self) -> String {
        match self.landscape.name() {
            "formula" => format!("f(x, y) = {}", self.landscape.formula()),
            name => name.to_string(),
        }
    }
}

fn unknown_function(
    text: &str,
    as_formula: &optimist_lab::landscape::formula::FormulaError,
) -> Failure {
    let shown = optimist_lab::text::quoted(text);
    let names = landscape::builtin_names();
    let closest = optimist::suggest::did_you_mean(text, &names);
    Failure::usage(format!(
        "--function {shown} is neither a built-in landscape{closest} nor a formula\nas a formula: {as_formula}\nbuilt-in landscapes: {}; or give a formula in x and y, e.g. --function \"x^2/20 + y^2\"",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        let names = landscape::builtin_names();
        assert_eq!(
            optimist::suggest::closest("Rosenbrok", &names),
            Some("rosenbrock")
        );
        assert!(looks_like_a_name("goldstein-price"));
        assert!(!looks_like_a_name("x^2"));
        assert!(!looks_like_a_name("2x"));
        assert_eq!(parse_start("-7, 2"), Ok((-7.0, 2.0)));
        assert!(parse_start("1,2,3").is_err());
        assert_eq!(parse_window("-2,2,-1,3"), Window::new(-2.0, 2.0, -1.0, 3.0));
        assert!(parse_window("2,-2,-1,3")
            .unwrap_err()
            .contains("XMIN < XMAX"));
        assert!(parse_window("1,2,3")
            .unwrap_err()
            .contains("four finite numbers"));
    }
}
