//! A window that frames a race's paths: the article's window of ±10 leaves most of
//! each panel empty, since every path there stays within ±2 in y.

use crate::landscape::{Landscape, Window};
use crate::race::Run;

/// The margin added on each side, as a fraction of the paths' extent.
pub const MARGIN: f64 = 0.1;

/// The window is widened, if need be, so that neither side is more than this many
/// times the other: the figures then keep one scale for x and y.
pub const MAX_ASPECT: f64 = 2.0;

/// The smallest window holding the finite points of the runs that did not diverge
/// (all runs when every one diverged), the start and `landscape`'s minima, with a
/// [`MARGIN`] on each side and an aspect ratio of at most [`MAX_ASPECT`].
pub fn paths_window(landscape: &dyn Landscape, runs: &[Run], start: (f64, f64)) -> Window {
    let kept: Vec<&Run> = if runs.iter().all(|r| r.diverged_at.is_some()) {
        runs.iter().collect()
    } else {
        runs.iter().filter(|r| r.diverged_at.is_none()).collect()
    };
    let points = kept
        .iter()
        .flat_map(|r| r.points.iter().map(|p| (p.x, p.y)))
        .chain(landscape.minima())
        .chain(std::iter::once(start))
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return landscape.window();
    }
    // A side with no extent takes a tenth of the other's, or 1 when both have none.
    let floor = ((x1 - x0).max(y1 - y0) / MAX_ASPECT).max(1e-9 * x0.abs().max(y0.abs()));
    let floor = if floor > 0.0 { floor } else { 1.0 };
    let (mut dx, mut dy) = ((x1 - x0).max(floor), (y1 - y0).max(floor));
    dx = dx.max(dy / MAX_ASPECT);
    dy = dy.max(dx / MAX_ASPECT);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (hx, hy) = (dx * (0.5 + MARGIN), dy * (0.5 + MARGIN));
    Window::new(cx - hx, cx + hx, cy - hy, cy + hy).unwrap_or_else(|_| landscape.window())
}

/// A landscape seen through another window; everything else is the inner one's.
pub struct Framed<'a> {
    /// The landscape.
    pub inner: &'a dyn Landscape,
    /// The window shown.
    pub window: Window,
}

impl Landscape for Framed<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn formula(&self) -> &str {
        self.inner.formula()
    }
    fn value(&self, x: f64, y: f64) -> f64 {
        self.inner.value(x, y)
    }
    fn gradient(&self, x: f64, y: f64) -> (f64, f64) {
        self.inner.gradient(x, y)
    }
    fn window(&self) -> Window {
        self.window
    }
    fn minima(&self) -> Vec<(f64, f64)> {
        self.inner.minima()
    }
    fn start(&self) -> (f64, f64) {
        self.inner.start()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::article;
    use crate::race::Race;

    #[test]
    fn the_article_race_is_framed_with_a_margin() {
        let a = article();
        let race = Race::article();
        let runs = race.run::<f64>(&a).unwrap();
        let w = paths_window(&a, &runs, race.start);
        for r in &runs {
            for p in &r.points {
                assert!(w.contains(p.x, p.y), "{} at ({}, {})", r.label, p.x, p.y);
            }
        }
        let (dx, dy) = (w.x_max - w.x_min, w.y_max - w.y_min);
        assert!(dx / dy <= MAX_ASPECT + 1e-12 && dy / dx <= MAX_ASPECT + 1e-12);
        // Far tighter than the article's ±10 window.
        assert!(dx * dy < 0.3 * 400.0, "{w}");
        // The start keeps a margin from the edge.
        assert!(race.start.0 - w.x_min >= MARGIN * dx / (1.0 + 2.0 * MARGIN) - 1e-12);
    }
}
