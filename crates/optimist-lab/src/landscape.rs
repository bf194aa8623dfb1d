//! Landscapes: two-dimensional functions with their exact gradients, a plotting window
//! and their known minima.

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
    /// Whether `(x, y)` lies inside (edges included).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        (self.x_min..=self.x_max).contains(&x) && (self.y_min..=self.y_max).contains(&y)
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

/// The article's landscape: f(x, y) = x²/20 + y², a ravine twenty times steeper in y
/// than in x, whose minimum is (0, 0).
#[derive(Debug, Clone, Copy, Default)]
pub struct Article;

impl Landscape for Article {
    fn name(&self) -> &str {
        "article"
    }
    fn formula(&self) -> &str {
        "x²/20 + y²"
    }
    fn value(&self, x: f64, y: f64) -> f64 {
        x * x / 20.0 + y * y
    }
    fn gradient(&self, x: f64, y: f64) -> (f64, f64) {
        (x / 10.0, 2.0 * y)
    }
    fn window(&self) -> Window {
        Window {
            x_min: -10.0,
            x_max: 10.0,
            y_min: -10.0,
            y_max: 10.0,
        }
    }
    fn minima(&self) -> Vec<(f64, f64)> {
        vec![(0.0, 0.0)]
    }
    fn start(&self) -> (f64, f64) {
        (-7.0, 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_gradient_matches_central_differences() {
        let f = Article;
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
