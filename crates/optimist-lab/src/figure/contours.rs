//! Contour lines of a landscape over its window, at levels that suit its shape.

use super::error::FigureError;
use crate::landscape::{Landscape, Window};
use contour::ContourBuilder;

/// Samples per side of the grid the landscape is evaluated on.
const SAMPLES: usize = 161;
/// How many contour lines are drawn.
pub(super) const LEVELS: usize = 12;
/// Levels are spaced geometrically when the values enclosing 90% of the window rise
/// this many times higher above the minimum than those enclosing 1% (Rosenbrock:
/// 1500, the article's: 290); below it (Rastrigin: 9, Ackley: 4, the saddles) geometric
/// levels would crowd every dip with rings, and even ones read better.
const WIDE: f64 = 100.0;

/// The contour line of one level.
#[derive(Debug, Clone)]
pub(super) struct ContourLine {
    /// Rank of the level among all levels, 0 (lowest) to 1 (highest): picks its colour.
    pub rank: f64,
    /// The value of f along the line: its label says it.
    pub value: f64,
    /// Closed rings in data coordinates; those cut by the window run half a grid cell
    /// outside it, where clipping removes them.
    pub rings: Vec<Vec<(f64, f64)>>,
}

/// The contour lines of `landscape` over `window`, from marching squares on a grid.
pub(super) fn contour_lines(
    landscape: &dyn Landscape,
    window: Window,
) -> Result<Vec<ContourLine>, FigureError> {
    let sx = (window.x_max - window.x_min) / (SAMPLES - 1) as f64;
    let sy = (window.y_max - window.y_min) / (SAMPLES - 1) as f64;
    let mut values = Vec::with_capacity(SAMPLES * SAMPLES);
    for j in 0..SAMPLES {
        let y = window.y_min + j as f64 * sy;
        for i in 0..SAMPLES {
            values.push(landscape.value(window.x_min + i as f64 * sx, y));
        }
    }
    let levels = levels(&values, LEVELS);
    // Where f is undefined or infinite, count it as higher than every level.
    for v in &mut values {
        if !v.is_finite() {
            *v = f64::MAX;
        }
    }
    // The crate places value (i, j) at (i + 0.5, j + 0.5) in grid units.
    let builder = ContourBuilder::new(SAMPLES, SAMPLES, true)
        .x_origin(window.x_min - 0.5 * sx)
        .y_origin(window.y_min - 0.5 * sy)
        .x_step(sx)
        .y_step(sy);
    let lines = builder
        .lines(&values, &levels)
        .map_err(|e| FigureError::Contour(format!("{:?}", e.kind())))?;
    let last = (levels.len().max(2) - 1) as f64;
    Ok(lines
        .iter()
        .enumerate()
        .map(|(k, line)| ContourLine {
            rank: k as f64 / last,
            value: line.threshold(),
            rings: line
                .geometry()
                .0
                .iter()
                .map(|ring| ring.0.iter().map(|c| (c.x, c.y)).collect())
                .collect(),
        })
        .collect())
}

/// `count` increasing levels for the finite `values`: geometrically spaced above the
/// minimum from the value enclosing 1% of the window to the one enclosing 90%, so that
/// both a steep bowl and a flat valley (Rosenbrock's) show nested lines where the
/// optimizers end up; evenly spaced between the minimum and the maximum when that range
/// is narrow ([`WIDE`]), as on Rastrigin's egg box. Empty when f is constant.
pub(super) fn levels(values: &[f64], count: usize) -> Vec<f64> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 2 || count == 0 {
        return Vec::new();
    }
    let (min, max) = finite
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if max <= min || !(max - min).is_finite() {
        return Vec::new();
    }
    // Quantiles by selection: linear time, where sorting the grid took a millisecond.
    let last = finite.len() - 1;
    let mut above = |p: f64| {
        *finite
            .select_nth_unstable_by(((last as f64) * p).round() as usize, f64::total_cmp)
            .1
            - min
    };
    let lo = above(0.01).max((max - min) * 1e-6);
    let hi = above(0.90);
    if count > 1 && hi >= WIDE * lo {
        let ratio = hi / lo;
        (0..count)
            .map(|i| min + lo * ratio.powf(i as f64 / (count - 1) as f64))
            .collect()
    } else {
        (1..=count)
            .map(|i| min + (max - min) * i as f64 / (count + 1) as f64)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::article;

    #[test]
    fn article_lines_lie_on_their_level() {
        let article = article();
        let lines = contour_lines(&article, article.window()).unwrap();
        assert_eq!(lines.len(), LEVELS);
        let w = article.window();
        let cell = (w.x_max - w.x_min) / (SAMPLES - 1) as f64;
        let mut checked = 0;
        for line in &lines {
            assert!(!line.rings.is_empty(), "level {} has no line", line.value);
            for ring in &line.rings {
                for &(x, y) in ring {
                    // The edges of the grid close the rings; only inner points lie on f = c.
                    let inner = x > w.x_min + cell
                        && x < w.x_max - cell
                        && y > w.y_min + cell
                        && y < w.y_max - cell;
                    if inner {
                        let f = article.value(x, y);
                        assert!(
                            (f - line.value).abs() < 0.01 + 0.01 * line.value,
                            "f({x}, {y}) = {f}, level {}",
                            line.value
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked}");
        // The lowest level is a whole ellipse around the minimum, wider than tall.
        let ring = &lines[0].rings[0];
        let (xs, ys): (Vec<f64>, Vec<f64>) = ring.iter().copied().unzip();
        let span = |v: &[f64]| {
            v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
        };
        assert!((span(&xs) / span(&ys) - 20f64.sqrt()).abs() < 0.1);
    }

    #[test]
    fn levels_spread_geometrically_over_the_window() {
        let values: Vec<f64> = (0..10_000).map(|i| (i as f64 / 100.0).powi(2)).collect();
        let l = levels(&values, 5);
        assert_eq!(l.len(), 5);
        let ratios: Vec<f64> = l.windows(2).map(|p| p[1] / p[0]).collect();
        for r in &ratios {
            assert!((r - ratios[0]).abs() < 1e-9 && *r > 1.0, "{ratios:?}");
        }
        assert!(
            (l[0] - 1.0).abs() < 0.05,
            "1% of the values lie below {}",
            l[0]
        );
        assert!((l[4] - 8100.0).abs() < 50.0, "90% lie below {}", l[4]);
        assert!(levels(&[3.0; 100], 5).is_empty());
        assert!(levels(&[f64::NAN, 1.0], 5).is_empty());
        // Rastrigin-like: 90% of the values within 10 times the 1% quantile: even.
        let narrow: Vec<f64> = (1..=1000).map(|i| i as f64 / 100.0).collect();
        let even = levels(&narrow, 4);
        assert_eq!(even, vec![2.008, 4.006, 6.004, 8.002]);
        // A plateau with one pit: evenly spaced between min and max.
        let mut plateau: Vec<f64> = (0..99).map(|i| 10.0 + i as f64 / 98.0).collect();
        plateau.push(0.0);
        assert_eq!(levels(&plateau, 3), vec![2.75, 5.5, 8.25]);
    }
}
