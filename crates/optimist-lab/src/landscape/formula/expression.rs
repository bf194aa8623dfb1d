//! A typed formula as a [`Landscape`]: parsed, differentiated, cut down to what f and
//! its gradient need, and evaluated.

use super::graph::{Graph, Op};
use super::parse::{lex, Kind, Parser};
use crate::landscape::{Landscape, Window};

/// The window a typed formula is shown in unless another is given: [−5, 5]².
pub const DEFAULT_WINDOW: Window = Window {
    x_min: -5.0,
    x_max: 5.0,
    y_min: -5.0,
    y_max: 5.0,
};

/// The longest formula read, in characters: bounds the work of differentiating it.
pub const MAX_LENGTH: usize = 2000;

/// Why a formula could not be read: what was wrong, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (column {column})\n{}", crate::text::pointed(formula, *column))]
pub struct FormulaError {
    /// The formula as given.
    pub formula: String,
    /// Where the problem is: 1 for the first character; one past the end when the
    /// formula stops too early.
    pub column: usize,
    /// What is wrong, and what was expected there.
    pub message: String,
}

/// A parsed formula in x and y with its exact gradient, shown in a window: a
/// [`Landscape`] whose minima are unknown.
#[derive(Debug, Clone)]
pub struct Formula {
    text: String,
    /// The operations f needs, then those only the gradient needs.
    ops: Vec<Op>,
    /// How many of `ops` f needs.
    value_ops: usize,
    value: usize,
    dx: usize,
    dy: usize,
    window: Window,
}

impl Formula {
    /// Parses `text` and differentiates it; an error names the column where reading
    /// stopped and what was expected there.
    ///
    /// ```
    /// use optimist_lab::landscape::{formula::Formula, Landscape};
    ///
    /// let f = Formula::parse("x^2/20 + y^2")?;
    /// assert_eq!(f.value(-7.0, 2.0), 6.45);
    /// assert_eq!(f.gradient(-7.0, 2.0), (-0.7, 4.0));
    /// let e = Formula::parse("x^2 + * y").unwrap_err();
    /// assert_eq!(e.column, 7);
    /// # Ok::<(), optimist_lab::landscape::formula::FormulaError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let trimmed = text.trim();
        let fail = |column: usize, message: String| FormulaError {
            formula: trimmed.to_string(),
            column,
            message,
        };
        let length = trimmed.chars().count();
        if length == 0 {
            return Err(fail(
                1,
                "the formula is empty; write one in x and y, e.g. x^2/20 + y^2".into(),
            ));
        }
        if length > MAX_LENGTH {
            return Err(fail(
                MAX_LENGTH + 1,
                format!("the formula is {length} characters long; at most {MAX_LENGTH} are read"),
            ));
        }
        let tokens = lex(trimmed).map_err(|(c, m)| fail(c, m))?;
        let mut parser = Parser {
            tokens,
            at: 0,
            depth: 0,
            graph: Graph::default(),
        };
        let root = parser.expression().map_err(|(c, m)| fail(c, m))?;
        let next = parser.peek();
        if next.kind != Kind::End {
            let message = match next.kind {
                Kind::Close => "this ')' has no '(' to close".to_string(),
                _ => format!(
                    "expected an operator (+ - * / ^) or the end of the formula, found {}",
                    next.kind.describe()
                ),
            };
            return Err(fail(next.column, message));
        }
        let mut graph = parser.graph;
        let count = graph.ops.len();
        let dx = graph.derivatives(count, true)[root];
        let dy = graph.derivatives(count, false)[root];
        Ok(compact(trimmed, graph.ops, root, dx, dy))
    }

    /// The formula as typed (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How many operations f and its gradient take at a point: what one step on it
    /// costs, for budgets of work.
    pub fn operations(&self) -> usize {
        self.ops.len()
    }

    /// The same formula shown in `window`.
    pub fn with_window(self, window: Window) -> Formula {
        Formula { window, ..self }
    }

    /// Runs the first `count` operations at (x, y) and hands their values to `read`.
    fn run<T>(&self, x: f64, y: f64, count: usize, read: impl Fn(&[f64]) -> T) -> T {
        // Most formulas fit on the stack; long ones take the heap.
        let mut stack = [0.0f64; 96];
        let mut heap = Vec::new();
        let values: &mut [f64] = if count <= stack.len() {
            &mut stack[..count]
        } else {
            heap.resize(count, 0.0);
            &mut heap
        };
        for (i, op) in self.ops[..count].iter().enumerate() {
            values[i] = match *op {
                Op::Const(c) => c,
                Op::X => x,
                Op::Y => y,
                Op::Neg(a) => -values[a],
                Op::Add(a, b) => values[a] + values[b],
                Op::Sub(a, b) => values[a] - values[b],
                Op::Mul(a, b) => values[a] * values[b],
                Op::Div(a, b) => values[a] / values[b],
                Op::Pow(a, b) => values[a].powf(values[b]),
                Op::Call(f, a) => f.apply(values[a]),
            };
        }
        read(values)
    }
}

/// The formula's graph cut down to what f and its gradient use, in an order where f's
/// operations come first (so f alone runs a prefix) and operands precede their users.
fn compact(text: &str, ops: Vec<Op>, value: usize, dx: usize, dy: usize) -> Formula {
    let operands = |op: &Op| -> [Option<usize>; 2] {
        match *op {
            Op::Const(_) | Op::X | Op::Y => [None, None],
            Op::Neg(a) | Op::Call(_, a) => [Some(a), None],
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) => {
                [Some(a), Some(b)]
            }
        }
    };
    // Operands have smaller indices than their users: one backward sweep marks all.
    let mark = |roots: &[usize]| {
        let mut used = vec![false; ops.len()];
        for &r in roots {
            used[r] = true;
        }
        for i in (0..ops.len()).rev() {
            if used[i] {
                for a in operands(&ops[i]).into_iter().flatten() {
                    used[a] = true;
                }
            }
        }
        used
    };
    let for_value = mark(&[value]);
    let for_any = mark(&[value, dx, dy]);
    let order: Vec<usize> = (0..ops.len())
        .filter(|&i| for_value[i])
        .chain((0..ops.len()).filter(|&i| for_any[i] && !for_value[i]))
        .collect();
    let mut new_index = vec![usize::MAX; ops.len()];
    for (k, &i) in order.iter().enumerate() {
        new_index[i] = k;
    }
    let m = |i: usize| new_index[i];
    let remapped = order
        .iter()
        .map(|&i| match ops[i] {
            Op::Neg(a) => Op::Neg(m(a)),
            Op::Add(a, b) => Op::Add(m(a), m(b)),
            Op::Sub(a, b) => Op::Sub(m(a), m(b)),
            Op::Mul(a, b) => Op::Mul(m(a), m(b)),
            Op::Div(a, b) => Op::Div(m(a), m(b)),
            Op::Pow(a, b) => Op::Pow(m(a), m(b)),
            Op::Call(f, a) => Op::Call(f, m(a)),
            leaf => leaf,
        })
        .collect();
    Formula {
        text: text.to_string(),
        ops: remapped,
        value_ops: for_value.iter().filter(|&&u| u).count(),
        value: m(value),
        dx: m(dx),
        dy: m(dy),
        window: DEFAULT_WINDOW,
    }
}

impl Landscape for Formula {
    fn name(&self) -> &str {
        "formula"
    }
    fn formula(&self) -> &str {
        &self.text
    }
    fn value(&self, x: f64, y: f64) -> f64 {
        self.run(x, y, self.value_ops, |v| v[self.value])
    }
    fn gradient(&self, x: f64, y: f64) -> (f64, f64) {
        self.run(x, y, self.ops.len(), |v| (v[self.dx], v[self.dy]))
    }
    fn window(&self) -> Window {
        self.window
    }
    fn minima(&self) -> Vec<(f64, f64)> {
        Vec::new()
    }
    /// 15% of the way across the window from its left edge and 60% of the way up: on
    /// the article's window [−10, 10]², its start (−7, 2).
    fn start(&self) -> (f64, f64) {
        let w = self.window;
        (
            w.x_min + 0.15 * (w.x_max - w.x_min),
            w.y_min + 0.6 * (w.y_max - w.y_min),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::builtins;

    fn f(text: &str) -> Formula {
        Formula::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn points() -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for i in 0..7 {
            for j in 0..7 {
                pts.push((-2.9 + 0.93 * i as f64, -2.7 + 0.87 * j as f64));
            }
        }
        pts
    }

    #[test]
    fn operators_bind_as_in_mathematics() {
        let at = |text: &str, x: f64, y: f64| f(text).value(x, y);
        assert_eq!(at("-x^2", 3.0, 0.0), -9.0);
        assert_eq!(at("-2^2", 0.0, 0.0), -4.0);
        assert_eq!(at("2^3^2", 0.0, 0.0), 512.0);
        assert_eq!(at("2**3", 0.0, 0.0), 8.0);
        assert_eq!(at("x^-1", 4.0, 0.0), 0.25);
        assert_eq!(at("1 - 2 - 3", 0.0, 0.0), -4.0);
        assert_eq!(at("12 / 3 / 2", 0.0, 0.0), 2.0);
        assert_eq!(at("2*-3", 0.0, 0.0), -6.0);
        assert_eq!(at("2x + 3(y - 1)", 1.5, 2.0), 6.0);
        assert_eq!(at("2x^2", 3.0, 0.0), 18.0);
        assert_eq!(at("(x)(y)", 3.0, 5.0), 15.0);
        assert_eq!(at("x²/20 + y²", -7.0, 2.0), 6.45);
        assert_eq!(at("x³ − 3x·y²", 1.0, 0.5), 0.25);
        assert_eq!(at("sin(x)²", 0.5, 0.0), 0.5f64.sin().powf(2.0));
        assert_eq!(at("2e", 0.0, 0.0), 2.0 * std::f64::consts::E);
        assert_eq!(at("1e-3x", 5.0, 0.0), 0.005);
        assert_eq!(at("2.5E+2", 0.0, 0.0), 250.0);
        assert_eq!(at(".5 + pi - π", 0.0, 0.0), 0.5);
        assert_eq!(at("LN(e) + Sqrt(16)", 0.0, 0.0), 5.0);
        assert!(at("log(x)", -1.0, 0.0).is_nan());
    }

    #[test]
    fn every_function_and_its_derivative() {
        type Case = (&'static str, fn(f64, f64) -> f64);
        let cases: [Case; 12] = [
            ("sin(x*y)", |x, y| (x * y).sin()),
            ("cos(x - y)", |x, y| (x - y).cos()),
            ("tan(x/4)", |x, _| (x / 4.0).tan()),
            ("exp(-x^2 - y^2)", |x, y| (-x * x - y * y).exp()),
            ("log(1 + x^2) + ln(3 + y)", |x, y| {
                (1.0 + x * x).ln() + (3.0 + y).ln()
            }),
            ("sqrt(x^2 + y^2 + 1)", |x, y| (x * x + y * y + 1.0).sqrt()),
            ("abs(x) + abs(y - 0.1)", |x, y| x.abs() + (y - 0.1).abs()),
            ("tanh(x) * y", |x, y| x.tanh() * y),
            ("(x^2 + 1)^(y/3)", |x, y| (x * x + 1.0).powf(y / 3.0)),
            ("2^(x + y)", |x, y| 2f64.powf(x + y)),
            ("x / (y^2 + 1)", |x, y| x / (y * y + 1.0)),
            ("(x - y)^3 / 7", |x, y| (x - y).powi(3) / 7.0),
        ];
        for (text, g) in cases {
            let formula = f(text);
            for (x, y) in points() {
                let v = formula.value(x, y);
                assert!(
                    (v - g(x, y)).abs() <= 1e-12 * (1.0 + v.abs()),
                    "{text} at ({x}, {y})"
                );
                let (gx, gy) = formula.gradient(x, y);
                let h = 1e-6;
                let nx = (g(x + h, y) - g(x - h, y)) / (2.0 * h);
                let ny = (g(x, y + h) - g(x, y - h)) / (2.0 * h);
                let scale = 1.0 + v.abs().max(gx.abs()).max(gy.abs());
                assert!(
                    (gx - nx).abs() <= 1e-6 * scale && (gy - ny).abs() <= 1e-6 * scale,
                    "{text} at ({x}, {y}): exact ({gx}, {gy}) vs numeric ({nx}, {ny})"
                );
            }
        }
        // |x| has the subgradient 0 at its kink; √y's x-derivative is 0, not NaN.
        assert_eq!(f("abs(x)").gradient(0.0, 0.0), (0.0, 0.0));
        assert_eq!(f("x + sqrt(y)").gradient(1.0, 0.0), (1.0, f64::INFINITY));
    }

    /// Each built-in landscape typed as a formula: the same values and gradients.
    #[test]
    fn every_builtin_typed_as_a_formula() {
        let typed = [
            ("article", "x^2/20 + y^2"),
            ("rosenbrock", "(1 - x)^2 + 100 (y - x^2)^2"),
            ("beale", "(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2"),
            ("himmelblau", "(x² + y − 11)² + (x + y² − 7)²"),
            ("rastrigin", "20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y)"),
            (
                "ackley",
                "-20 exp(-0.2 sqrt(0.5 (x^2 + y^2))) - exp(0.5 (cos(2 pi x) + cos(2 pi y))) + e + 20",
            ),
            ("booth", "(x + 2y - 7)^2 + (2x + y - 5)^2"),
            (
                "goldstein-price",
                "(1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6x y + 3y^2)) * (30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36x y + 27y^2))",
            ),
            ("styblinski-tang", "((x^4 - 16x^2 + 5x) + (y^4 - 16y^2 + 5y))/2"),
            ("saddle", "x^2 - y^2"),
            ("monkey-saddle", "x^3 - 3x y^2"),
        ];
        assert_eq!(typed.len(), builtins().len());
        for (b, (name, text)) in builtins().iter().zip(typed) {
            assert_eq!(b.name(), name);
            let formula = f(text);
            let w = b.window();
            for i in 0..9 {
                for j in 0..9 {
                    let x = w.x_min + (i as f64 + 0.37) / 9.0 * (w.x_max - w.x_min);
                    let y = w.y_min + (j as f64 + 0.61) / 9.0 * (w.y_max - w.y_min);
                    let (v, want) = (formula.value(x, y), b.value(x, y));
                    assert!(
                        (v - want).abs() <= 1e-12 * (1.0 + want.abs()),
                        "{name} at ({x}, {y}): {v} vs {want}"
                    );
                    let (gx, gy) = formula.gradient(x, y);
                    let (wx, wy) = b.gradient(x, y);
                    let scale = 1e-11 * (1.0 + want.abs().max(wx.abs()).max(wy.abs()));
                    assert!(
                        (gx - wx).abs() <= scale && (gy - wy).abs() <= scale,
                        "{name} at ({x}, {y}): ({gx}, {gy}) vs ({wx}, {wy})"
                    );
                }
            }
        }
    }

    #[test]
    fn shared_subexpressions_are_computed_once() {
        // Rosenbrock: f needs 1, x, 1 − x, 2, (1 − x)², 100, x², y, y − x², its square,
        // the product and the sum; the gradient reuses all of those.
        let r = f("(1 - x)^2 + 100 (y - x^2)^2");
        assert_eq!(r.value_ops, 12);
        assert!(r.ops.len() < 30, "{}", r.ops.len());
        let same = f("x*x + x*x");
        assert_eq!(same.value_ops, 3, "x, x·x, their sum");
        assert_eq!(f("2*3 + x*0").value_ops, 1, "folds to the constant 6");
        assert_eq!(f("2*3 + x*0").value(1.0, 1.0), 6.0);
    }

    fn error(text: &str) -> FormulaError {
        match Formula::parse(text) {
            Ok(_) => panic!("{text} parsed"),
            Err(e) => e,
        }
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases: [(&str, usize, &str); 15] = [
            ("x^2 + * y", 7, "expected a number, x, y"),
            ("(x + y", 7, "expected ')' to close the '(' at column 1"),
            ("x + y)", 6, "this ')' has no '('"),
            ("sin x", 5, "sin needs its argument in parentheses"),
            ("z + 1", 1, "unknown name 'z'"),
            ("1.2.3", 4, "second '.'"),
            ("", 1, "the formula is empty"),
            ("   ", 1, "the formula is empty"),
            ("x $ y", 3, "unexpected character '$'"),
            ("2 3", 3, "expected an operator"),
            ("x^", 3, "found the end of the formula"),
            ("x + ()", 6, "before this ')'"),
            ("cos(x", 6, "expected ')' to close the '(' at column 4"),
            ("x2 + y", 1, "unknown name 'x2'"),
            ("2 xy", 3, "unknown name 'xy' (for a product write x*y)"),
        ];
        for (text, column, message) in cases {
            let e = error(text);
            assert_eq!(e.column, column, "{text}: {e}");
            assert!(e.message.contains(message), "{text}: {e}");
        }
        let e = error("x^2 + * y");
        assert_eq!(
            e.to_string(),
            "expected a number, x, y, pi, e, a function such as sin(...) or '(', found '*' (column 7)\n  x^2 + * y\n        ^"
        );
        assert!(error("z")
            .message
            .contains("sin, cos, tan, exp, log, ln, sqrt, abs, tanh"));
        // Deep nesting and great length are errors, not a stack overflow.
        let deep = format!("{}x{}", "(".repeat(500), ")".repeat(500));
        assert!(error(&deep).message.contains("nests more than 100"));
        let minus = format!("{}x", "-".repeat(1000));
        assert!(error(&minus).message.contains("nests more than 100"));
        let long = "x + ".repeat(600) + "y";
        assert!(error(&long).message.contains("at most 2000"));
        // Long but shallow is fine: 499 additions.
        let sum = "x + ".repeat(499) + "y";
        assert_eq!(f(&sum).gradient(1.0, 1.0), (499.0, 1.0));
    }

    #[test]
    fn a_landscape_in_its_window() {
        let g = f("x^2/20 + y^2");
        assert_eq!(g.window(), DEFAULT_WINDOW);
        assert_eq!(g.formula(), "x^2/20 + y^2");
        assert!(g.minima().is_empty());
        let w = Window::new(-10.0, 10.0, -10.0, 10.0).unwrap();
        let g = g.with_window(w);
        assert_eq!(g.window(), w);
        assert_eq!(g.start(), (-7.0, 2.0));
    }
}
