//! Landscapes: two-dimensional functions with their exact gradients, a plotting window
//! and their known minima; built in, or typed as a [`formula`].

pub mod formula;

/// The narrowest window, relative to the magnitude of its bounds: below it the floats
/// across it are too few to draw (ticks, contours, pixels).
pub const MIN_RELATIVE_WIDTH: f64 = 1e-9;

/// A rectangle of the plane: where a landscape is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Smallest x shown.
    pub x_min: f64,
    /// Largest x shown.
    pub x_max: f64,
    /// Smallest y shown.
    pub y_min: f64,
    /// Largest y shown.
    pub y_max: f64,
}

impl Window {
    /// The window x ∈ [`x_min`, `x_max`], y ∈ [`y_min`, `y_max`], if its bounds are
    /// finite and each minimum is below its maximum.
    pub fn new(x_min: f64, x_max: f64, y_min: f64, y_max: f64) -> Result<Window, String> {
        let w = Window {
            x_min,
            x_max,
            y_min,
            y_max,
        };
        if ![x_min, x_max, y_min, y_max].iter().all(|v| v.is_finite()) {
            return Err(format!(
                "the window {w} has a bound that is not a finite number"
            ));
        }
        for (lo, hi, name) in [(x_min, x_max, "X"), (y_min, y_max, "Y")] {
            if lo >= hi {
                return Err(format!("the window {w} needs {name}MIN < {name}MAX"));
            }
            // The widths must be finite too: the figure divides by them.
            if !(hi - lo).is_finite() {
                return Err(format!(
                    "the window {w} is too wide: {name}MAX − {name}MIN exceeds the largest number ({}); at most {} wide",
                    crate::text::number(f64::MAX),
                    crate::text::number(f64::MAX)
                ));
            }
            // Ticks, contours and pixels need distinct numbers across the window.
            let magnitude = lo.abs().max(hi.abs());
            if hi - lo < magnitude * MIN_RELATIVE_WIDTH {
                return Err(format!(
                    "the window {w} is too narrow for its magnitude: {name}MAX − {name}MIN = {} is less than {} × {}; widen it to at least {}",
                    crate::text::number(hi - lo),
                    crate::text::number(MIN_RELATIVE_WIDTH),
                    crate::text::number(magnitude),
                    crate::text::number(magnitude * MIN_RELATIVE_WIDTH),
                ));
            }
        }
        Ok(w)
    }

    /// Whether `(x, y)` lies inside (edges included).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        (self.x_min..=self.x_max).contains(&x) && (self.y_min..=self.y_max).contains(&y)
    }
}

impl std::fmt::Display for Window {
    /// `x ∈ [-2, 2], y ∈ [-1, 3]`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::text::number;
        write!(
            f,
            "x ∈ [{}, {}], y ∈ [{}, {}]",
            number(self.x_min),
            number(self.x_max),
            number(self.y_min),
            number(self.y_max)
        )
    }
}

/// What a problem provides to a race: its value and exact gradient at every point,
/// where to look at it, and where its minima are.
pub trait Landscape: Send + Sync {
    /// Short name, e.g. `article`.
    fn name(&self) -> &str;
    /// The function in words, e.g. `x²/20 + y²`.
    fn formula(&self) -> &str;
    /// f(x, y).
    fn value(&self, x: f64, y: f64) -> f64;
    /// (∂f/∂x, ∂f/∂y) at (x, y), exact.
    fn gradient(&self, x: f64, y: f64) -> (f64, f64);
    /// The plotting window.
    fn window(&self) -> Window;
    /// The known global minima.
    fn minima(&self) -> Vec<(f64, f64)>;
    /// A classic start for races on this landscape.
    fn start(&self) -> (f64, f64);
}

/// A built-in landscape: a classic test function of optimization.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    name: &'static str,
    formula: &'static str,
    f: fn(f64, f64) -> f64,
    grad: fn(f64, f64) -> (f64, f64),
    window: Window,
    minima: &'static [(f64, f64)],
    start: (f64, f64),
}

impl Builtin {
    /// The same landscape shown in another window.
    pub fn with_window(self, window: Window) -> Builtin {
        Builtin { window, ..self }
    }
}

impl Landscape for Builtin {
    fn name(&self) -> &str {
        self.name
    }
    fn formula(&self) -> &str {
        self.formula
    }
    fn value(&self, x: f64, y: f64) -> f64 {
        (self.f)(x, y)
    }
    fn gradient(&self, x: f64, y: f64) -> (f64, f64) {
        (self.grad)(x, y)
    }
    fn window(&self) -> Window {
        self.window
    }
    fn minima(&self) -> Vec<(f64, f64)> {
        self.minima.to_vec()
    }
    fn start(&self) -> (f64, f64) {
        self.start
    }
}

const fn square(half: f64) -> Window {
    Window {
        x_min: -half,
        x_max: half,
        y_min: -half,
        y_max: half,
    }
}

use std::f64::consts::{E, PI};

/// Every built-in landscape, the article's first.
pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin {
            name: "article",
            formula: "x²/20 + y²",
            f: |x, y| x * x / 20.0 + y * y,
            grad: |x, y| (x / 10.0, 2.0 * y),
            window: square(10.0),
            minima: &[(0.0, 0.0)],
            start: (-7.0, 2.0),
        },
        Builtin {
            name: "rosenbrock",
            formula: "(1 − x)² + 100·(y − x²)²",
            f: |x, y| (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
            grad: |x, y| (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)),
            window: Window {
                x_min: -2.0,
                x_max: 2.0,
                y_min: -1.0,
                y_max: 3.0,
            },
            minima: &[(1.0, 1.0)],
            start: (-2.0, 2.0),
        },
        Builtin {
            name: "beale",
            formula: "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            f: |x, y| {
                (1.5 - x + x * y).powi(2) + (2.25 - x + x * y * y).powi(2) + (2.625 - x + x * y.powi(3)).powi(2)
            },
            grad: |x, y| {
                let (a, b, c) = (1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y.powi(3));
                (
                    2.0 * a * (y - 1.0) + 2.0 * b * (y * y - 1.0) + 2.0 * c * (y.powi(3) - 1.0),
                    2.0 * a * x + 4.0 * b * x * y + 6.0 * c * x * y * y,
                )
            },
            window: square(4.5),
            minima: &[(3.0, 0.5)],
            start: (1.0, 1.5),
        },
        Builtin {
            name: "himmelblau",
            formula: "(x² + y − 11)² + (x + y² − 7)²",
            f: |x, y| (x * x + y - 11.0).powi(2) + (x + y * y - 7.0).powi(2),
            grad: |x, y| {
                let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
                (4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b)
            },
            window: square(5.0),
            minima: &[
                (3.0, 2.0),
                (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.28318599128617),
                (3.584428340330492, -1.848126526964404),
            ],
            start: (0.0, 0.0),
        },
        Builtin {
            name: "rastrigin",
            formula: "20 + x² − 10·cos(2πx) + y² − 10·cos(2πy)",
            f: |x, y| 20.0 + x * x - 10.0 * (2.0 * PI * x).cos() + y * y - 10.0 * (2.0 * PI * y).cos(),
            grad: |x, y| {
                (
                    2.0 * x + 20.0 * PI * (2.0 * PI * x).sin(),
                    2.0 * y + 20.0 * PI * (2.0 * PI * y).sin(),
                )
            },
            window: square(4.5),
            minima: &[(0.0, 0.0)],
            start: (-2.0, 3.5),
        },
        Builtin {
            name: "ackley",
            formula: "−20·exp(−0.2·√(0.5(x² + y²))) − exp(0.5(cos 2πx + cos 2πy)) + e + 20",
            f: |x, y| {
                -20.0 * (-0.2 * (0.5 * (x * x + y * y)).sqrt()).exp()
                    - (0.5 * ((2.0 * PI * x).cos() + (2.0 * PI * y).cos())).exp()
                    + E
                    + 20.0
            },
            grad: |x, y| {
                let r = (0.5 * (x * x + y * y)).sqrt();
                // The cone's tip at the origin has no gradient; 0 there (a subgradient).
                let cone = if r > 0.0 { 2.0 * (-0.2 * r).exp() / r } else { 0.0 };
                let wave = PI * (0.5 * ((2.0 * PI * x).cos() + (2.0 * PI * y).cos())).exp();
                (
                    cone * x + wave * (2.0 * PI * x).sin(),
                    cone * y + wave * (2.0 * PI * y).sin(),
                )
            },
            window: square(5.0),
            minima: &[(0.0, 0.0)],
            start: (-4.0, 3.0),
        },
        Builtin {
            name: "booth",
            formula: "(x + 2y − 7)² + (2x + y − 5)²",
            f: |x, y| (x + 2.0 * y - 7.0).powi(2) + (2.0 * x + y - 5.0).powi(2),
            grad: |x, y| {
                let (a, b) = (x + 2.0 * y - 7.0, 2.0 * x + y - 5.0);
                (2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b)
            },
            window: square(10.0),
            minima: &[(1.0, 3.0)],
            start: (-8.0, -6.0),
        },
        Builtin {
            name: "goldstein-price",
            formula: "[1 + (x + y + 1)²(19 − 14x + 3x² − 14y + 6xy + 3y²)]·[30 + (2x − 3y)²(18 − 32x + 12x² + 48y − 36xy + 27y²)]",
            f: |x, y| {
                let (a, b) = goldstein_price_factors(x, y);
                a.0 * b.0
            },
            grad: |x, y| {
                let ((a, ax, ay), (b, bx, by)) = goldstein_price_factors(x, y);
                (ax * b + a * bx, ay * b + a * by)
            },
            window: square(2.0),
            minima: &[(0.0, -1.0)],
            start: (-1.5, 1.5),
        },
        Builtin {
            name: "styblinski-tang",
            formula: "((x⁴ − 16x² + 5x) + (y⁴ − 16y² + 5y))/2",
            f: |x, y| 0.5 * (x.powi(4) - 16.0 * x * x + 5.0 * x + y.powi(4) - 16.0 * y * y + 5.0 * y),
            grad: |x, y| (2.0 * x.powi(3) - 16.0 * x + 2.5, 2.0 * y.powi(3) - 16.0 * y + 2.5),
            window: square(5.0),
            minima: &[(-2.903534027771178, -2.903534027771178)],
            start: (4.0, 4.5),
        },
        Builtin {
            name: "saddle",
            formula: "x² − y²",
            f: |x, y| x * x - y * y,
            grad: |x, y| (2.0 * x, -2.0 * y),
            window: square(2.0),
            minima: &[],
            start: (1.5, 1e-3),
        },
        Builtin {
            name: "monkey-saddle",
            formula: "x³ − 3xy²",
            f: |x, y| x.powi(3) - 3.0 * x * y * y,
            grad: |x, y| (3.0 * x * x - 3.0 * y * y, -6.0 * x * y),
            window: square(2.0),
            minima: &[],
            start: (1.0, 0.5),
        },
    ]
}

/// A value with its two partial derivatives: (v, ∂v/∂x, ∂v/∂y).
type WithGrad = (f64, f64, f64);

/// Goldstein–Price's two factors, each with its partial derivatives.
fn goldstein_price_factors(x: f64, y: f64) -> (WithGrad, WithGrad) {
    let s = x + y + 1.0;
    let p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y;
    let dp = -14.0 + 6.0 * x + 6.0 * y; // ∂p/∂x = ∂p/∂y
    let a = 1.0 + s * s * p;
    let da = 2.0 * s * p + s * s * dp;
    let t = 2.0 * x - 3.0 * y;
    let q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y;
    let b = 30.0 + t * t * q;
    let bx = 4.0 * t * q + t * t * (-32.0 + 24.0 * x - 36.0 * y);
    let by = -6.0 * t * q + t * t * (48.0 - 36.0 * x + 54.0 * y);
    ((a, da, da), (b, bx, by))
}

/// The built-in landscape called `name`.
pub fn builtin(name: &str) -> Option<Builtin> {
    builtins().into_iter().find(|b| b.name == name)
}

/// The article's landscape: f(x, y) = x²/20 + y², a ravine twenty times steeper in y
/// than in x, whose minimum is (0, 0); the classic start is (−7, 2).
pub fn article() -> Builtin {
    builtins()[0]
}

/// Every built-in landscape's name.
pub fn builtin_names() -> Vec<&'static str> {
    builtins().iter().map(|b| b.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points spread over the window, avoiding the exact centre (Ackley's cone tip).
    fn sample(w: Window) -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for i in 0..9 {
            for j in 0..9 {
                let u = (i as f64 + 0.37) / 9.0;
                let v = (j as f64 + 0.61) / 9.0;
                pts.push((
                    w.x_min + u * (w.x_max - w.x_min),
                    w.y_min + v * (w.y_max - w.y_min),
                ));
            }
        }
        pts
    }

    #[test]
    fn every_gradient_matches_central_differences() {
        for f in builtins() {
            for (x, y) in sample(f.window()) {
                let (gx, gy) = f.gradient(x, y);
                let h = 1e-6;
                let nx = (f.value(x + h, y) - f.value(x - h, y)) / (2.0 * h);
                let ny = (f.value(x, y + h) - f.value(x, y - h)) / (2.0 * h);
                // Central differences err by O(h^2 f''') plus the rounding of f / h.
                let scale = 1.0 + f.value(x, y).abs().max(gx.abs()).max(gy.abs());
                assert!(
                    (gx - nx).abs() <= 1e-6 * scale && (gy - ny).abs() <= 1e-6 * scale,
                    "{} at ({x}, {y}): exact ({gx}, {gy}) vs numeric ({nx}, {ny})",
                    f.name()
                );
            }
        }
    }

    #[test]
    fn minima_are_stationary_and_lowest() {
        for f in builtins() {
            for &(mx, my) in &f.minima() {
                let (gx, gy) = f.gradient(mx, my);
                assert!(
                    gx.abs() < 1e-9 && gy.abs() < 1e-9,
                    "{}: gradient ({gx}, {gy}) at ({mx}, {my})",
                    f.name()
                );
                assert!(
                    f.window().contains(mx, my),
                    "{}: minimum outside the window",
                    f.name()
                );
                let fmin = f.value(mx, my);
                for (x, y) in sample(f.window()) {
                    assert!(
                        f.value(x, y) >= fmin - 1e-9,
                        "{}: ({x}, {y}) is below the minimum",
                        f.name()
                    );
                }
            }
            let (sx, sy) = f.start();
            assert!(
                f.window().contains(sx, sy),
                "{}: start outside the window",
                f.name()
            );
            let (gx, gy) = f.gradient(sx, sy);
            assert!(
                gx != 0.0 || gy != 0.0,
                "{}: the start is stationary",
                f.name()
            );
        }
    }

    #[test]
    fn known_values() {
        let at = |name: &str, x, y| builtin(name).unwrap().value(x, y);
        assert_eq!(at("goldstein-price", 0.0, -1.0), 3.0);
        assert!(
            (at("styblinski-tang", -2.903534027771178, -2.903534027771178) + 78.33233140754282)
                .abs()
                < 1e-9
        );
        assert!(at("ackley", 0.0, 0.0).abs() < 1e-12);
        assert_eq!(at("rastrigin", 0.0, 0.0), 0.0);
        for &(x, y) in &builtin("himmelblau").unwrap().minima() {
            assert!(at("himmelblau", x, y) < 1e-20);
        }
        assert!(builtin("nope").is_none());
        assert_eq!(builtin_names().len(), 11);
        assert_eq!(article().name(), "article");
        assert_eq!(article().value(-7.0, 2.0), 49.0 / 20.0 + 4.0);
    }

    #[test]
    fn windows_are_checked_and_replaced() {
        assert_eq!(
            Window::new(-2.0, 2.0, -1.0, 3.0),
            Ok(builtin("rosenbrock").unwrap().window())
        );
        let e = Window::new(1.0, 1.0, 0.0, 1.0).unwrap_err();
        assert!(e.contains("XMIN < XMAX"), "{e}");
        let e = Window::new(0.0, 1.0, 2.0, -1.0).unwrap_err();
        assert!(e.contains("YMIN < YMAX"), "{e}");
        assert!(Window::new(f64::NAN, 1.0, 0.0, 1.0).is_err());
        let e = Window::new(-1e308, 1e308, -1.0, 1.0).unwrap_err();
        assert_eq!(
            e,
            "the window x ∈ [-1e308, 1e308], y ∈ [-1, 1] is too wide: XMAX − XMIN exceeds the largest number (1.7976931348623157e308); at most 1.7976931348623157e308 wide"
        );
        for (lo, hi) in [(1.0, 1.0000000000000002), (1e10, 10000000000.000002)] {
            let e = Window::new(-1.0, 1.0, lo, hi).unwrap_err();
            assert!(
                e.contains("is too narrow for its magnitude: YMAX − YMIN"),
                "{e}"
            );
        }
        let w = Window::new(-1.0, 1.0, -1.0, 1.0).unwrap();
        let moved = article().with_window(w);
        assert_eq!(moved.window(), w);
        assert_eq!(moved.value(3.0, 1.0), article().value(3.0, 1.0));
        assert_eq!(w.to_string(), "x ∈ [-1, 1], y ∈ [-1, 1]");
    }

    #[test]
    fn article_gradient_matches_central_differences() {
        let f = article();
        let h = 1e-5;
        for &(x, y) in &[(-7.0, 2.0), (3.5, -1.25), (0.0, 0.0)] {
            let (gx, gy) = f.gradient(x, y);
            let nx = (f.value(x + h, y) - f.value(x - h, y)) / (2.0 * h);
            let ny = (f.value(x, y + h) - f.value(x, y - h)) / (2.0 * h);
            assert!(
                (gx - nx).abs() < 1e-8 && (gy - ny).abs() < 1e-8,
                "({x}, {y})"
            );
        }
        assert_eq!(f.value(0.0, 0.0), 0.0);
    }
}
