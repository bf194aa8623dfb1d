//! Where everything goes: the figure's size, each panel's cell and plotting area, and
//! the mapping from a landscape's window to pixels.

use super::error::FigureError;
use crate::landscape::Window;

/// Space around the figure's edges, in pixels.
const OUTER: u32 = 10;
/// Height of the band above the panels that names the landscape and keys the markers.
const HEADER: u32 = 44;
/// Room left of a plotting area: tick labels and the y axis title.
pub(super) const LEFT: u32 = 74;
/// Room right of a plotting area, so a panel's last x tick label clears the next panel.
pub(super) const RIGHT: u32 = 26;
/// Room above a plotting area: the name line and up to two lines of hyperparameters.
pub(super) const TOP: u32 = 78;
/// Room below a plotting area: tick labels and the x axis title.
pub(super) const BOTTOM: u32 = 56;
/// The largest plotting area; the window's aspect ratio picks the part of it used.
const PLOT_BOX: u32 = 460;
/// Windows more elongated than this are stretched rather than drawn as a thin strip.
const MAX_ASPECT: f64 = 2.0;

/// A rectangle of pixels: columns `x..x + width`, rows `y..y + height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// First column.
    pub x: i32,
    /// First row.
    pub y: i32,
    /// Columns covered.
    pub width: u32,
    /// Rows covered.
    pub height: u32,
}

impl Rect {
    /// Left, top, right and bottom edges, as figure coordinates.
    pub fn edges(&self) -> (f64, f64, f64, f64) {
        (
            self.x as f64,
            self.y as f64,
            self.right() as f64,
            self.bottom() as f64,
        )
    }

    /// One past the last column.
    pub fn right(&self) -> i32 {
        self.x + self.width as i32
    }

    /// One past the last row.
    pub fn bottom(&self) -> i32 {
        self.y + self.height as i32
    }

    /// Whether pixel (`column`, `row`) is inside.
    pub fn contains(&self, column: i32, row: i32) -> bool {
        (self.x..self.right()).contains(&column) && (self.y..self.bottom()).contains(&row)
    }
}

/// One panel of the figure: the cell it owns, its plotting area inside that cell, and
/// the window of the landscape the plotting area shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Panel {
    /// The whole cell: titles, ticks and labels included. Cells tile the figure below
    /// its header without overlapping.
    pub cell: Rect,
    /// The plotting area: the window maps exactly onto it.
    pub plot: Rect,
    /// The part of the plane shown.
    pub window: Window,
}

impl Panel {
    /// Where `(x, y)` lands, in continuous pixel coordinates: pixel (i, j) covers
    /// [i, i + 1) × [j, j + 1), `x_min` maps to the plot's left edge, `y_max` to its top.
    /// Points outside the window land outside the plotting area (they are not drawn).
    pub fn to_pixel(&self, x: f64, y: f64) -> (f64, f64) {
        let w = &self.window;
        let px = self.plot.x as f64 + (x - w.x_min) / (w.x_max - w.x_min) * self.plot.width as f64;
        let py = self.plot.y as f64 + (w.y_max - y) / (w.y_max - w.y_min) * self.plot.height as f64;
        (px, py)
    }

    /// The inverse of [`Panel::to_pixel`]: the point of the plane at a pixel position.
    pub fn to_data(&self, px: f64, py: f64) -> (f64, f64) {
        let w = &self.window;
        let x = w.x_min + (px - self.plot.x as f64) / self.plot.width as f64 * (w.x_max - w.x_min);
        let y = w.y_max - (py - self.plot.y as f64) / self.plot.height as f64 * (w.y_max - w.y_min);
        (x, y)
    }
}

/// The whole figure's geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Figure width in pixels.
    pub width: u32,
    /// Figure height in pixels.
    pub height: u32,
    /// The band across the top naming the landscape and keying the markers.
    pub header: Rect,
    /// Panels per row: 1 for a single run, else 2.
    pub columns: usize,
    /// One panel per run, in run order, row by row.
    pub panels: Vec<Panel>,
}

/// The geometry of a figure of `n_runs` panels showing `window`: one panel for one run,
/// else two columns and as many rows as needed. The plotting area keeps the window's
/// aspect ratio (so x and y share a scale) unless the window is more elongated than 2:1.
pub fn grid_layout(n_runs: usize, window: Window) -> Result<Layout, FigureError> {
    if n_runs == 0 {
        return Err(FigureError::NoRuns);
    }
    let dx = window.x_max - window.x_min;
    let dy = window.y_max - window.y_min;
    let finite = [window.x_min, window.x_max, window.y_min, window.y_max]
        .iter()
        .all(|v| v.is_finite());
    if !(finite && dx > 0.0 && dy > 0.0 && dx.is_finite() && dy.is_finite()) {
        return Err(FigureError::BadWindow(window));
    }
    let aspect = (dx / dy).clamp(1.0 / MAX_ASPECT, MAX_ASPECT);
    let (plot_w, plot_h) = if aspect >= 1.0 {
        (PLOT_BOX, (PLOT_BOX as f64 / aspect).round() as u32)
    } else {
        ((PLOT_BOX as f64 * aspect).round() as u32, PLOT_BOX)
    };
    let cell_w = LEFT + plot_w + RIGHT;
    let cell_h = TOP + plot_h + BOTTOM;
    let columns = if n_runs == 1 { 1 } else { 2 };
    let rows = n_runs.div_ceil(columns);
    let width = 2 * OUTER + columns as u32 * cell_w;
    let height = HEADER + rows as u32 * cell_h + OUTER;
    let panels = (0..n_runs)
        .map(|i| {
            let cell = Rect {
                x: (OUTER + (i % columns) as u32 * cell_w) as i32,
                y: (HEADER + (i / columns) as u32 * cell_h) as i32,
                width: cell_w,
                height: cell_h,
            };
            let plot = Rect {
                x: cell.x + LEFT as i32,
                y: cell.y + TOP as i32,
                width: plot_w,
                height: plot_h,
            };
            Panel { cell, plot, window }
        })
        .collect();
    Ok(Layout {
        width,
        height,
        header: Rect {
            x: 0,
            y: 0,
            width,
            height: HEADER,
        },
        columns,
        panels,
    })
}

/// Tick positions between `lo` and `hi` at a "nice" step (1, 2, 2.5 or 5 times a power
/// of ten), at most `max_count` of them, with the step.
pub(super) fn nice_ticks(lo: f64, hi: f64, max_count: usize) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return (if lo.is_finite() { vec![lo] } else { Vec::new() }, 0.0);
    }
    let max_count = max_count.max(2);
    let raw = span / max_count as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| span / step <= max_count as f64)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step - 1e-9).ceil();
    let mut ticks: Vec<f64> = Vec::new();
    // At most max_count + 1 ticks fit; the bound also ends the loop where a range too
    // narrow for its magnitude leaves `first + i` or `t` unchanged from one tick to the
    // next.
    for i in 0..=max_count + 1 {
        let t = (first + i as f64) * step;
        if t > hi + span * 1e-9 {
            break;
        }
        // Snap values like 0.30000000000000004 and −0 for their labels.
        let t = if t.abs() < step * 1e-9 { 0.0 } else { t };
        // Rounding can put the first multiple a hair below `lo` in a range narrow for
        // its magnitude.
        if t >= lo - span * 1e-9 && ticks.last().is_none_or(|&last| t > last) {
            ticks.push(t);
        }
    }
    (ticks, step)
}

/// A tick label: as few decimals as the step needs, a true minus sign.
pub(super) fn tick_label(value: f64, step: f64) -> String {
    let a = step.abs();
    let text = if !(1e-4..1e6).contains(&a) {
        exponent_form(value, 2)
    } else {
        let mut decimals = (-(a.log10() + 1e-9).floor()).max(0.0) as usize;
        // 2.5 × 10^k needs one more decimal than 1 or 5 × 10^k.
        let scaled = a * 10f64.powi(decimals as i32);
        if (scaled - scaled.round()).abs() > 1e-6 {
            decimals += 1;
        }
        format!("{value:.decimals$}")
    };
    minus_sign(&text)
}

/// A number to three significant digits, in exponent form when very large or small.
pub(super) fn short_number(value: f64) -> String {
    let a = value.abs();
    let text = if value == 0.0 {
        "0".to_string()
    } else if !value.is_finite() {
        format!("{value}")
    } else if (1e-3..1e5).contains(&a) {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        trim_zeros(&format!("{value:.decimals$}"))
    } else {
        exponent_form(value, 2)
    };
    minus_sign(&text)
}

fn exponent_form(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa)),
        None => text,
    }
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

/// Typographic minus (U+2212) for display: the hyphen is too short next to digits.
pub(super) fn minus_sign(text: &str) -> String {
    text.replace('-', "\u{2212}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: Window = Window {
        x_min: -10.0,
        x_max: 10.0,
        y_min: -10.0,
        y_max: 10.0,
    };

    #[test]
    fn one_run_one_column_more_runs_two_columns() {
        let one = grid_layout(1, ARTICLE).unwrap();
        assert_eq!(one.columns, 1);
        assert_eq!(one.panels.len(), 1);
        let five = grid_layout(5, ARTICLE).unwrap();
        assert_eq!(five.columns, 2);
        // Three rows, the last one half empty.
        assert_eq!(
            five.panels[4].cell.y,
            five.panels[0].cell.y + 2 * five.panels[0].cell.height as i32
        );
        assert_eq!(five.width, 2 * one.width - 2 * OUTER);
        assert_eq!(five.height, HEADER + 3 * five.panels[0].cell.height + OUTER);
        for (i, a) in five.panels.iter().enumerate() {
            assert!(a.cell.right() <= five.width as i32 && a.cell.bottom() <= five.height as i32);
            assert!(a.cell.x <= a.plot.x && a.plot.right() <= a.cell.right());
            for b in &five.panels[i + 1..] {
                let apart = a.cell.right() <= b.cell.x
                    || b.cell.right() <= a.cell.x
                    || a.cell.bottom() <= b.cell.y
                    || b.cell.bottom() <= a.cell.y;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
        assert!(matches!(grid_layout(0, ARTICLE), Err(FigureError::NoRuns)));
    }

    #[test]
    fn window_maps_onto_the_plotting_area_and_back() {
        let layout = grid_layout(4, ARTICLE).unwrap();
        let p = layout.panels[3];
        // A square window keeps a square plotting area: x and y share a scale.
        assert_eq!(p.plot.width, p.plot.height);
        assert_eq!(p.to_pixel(-10.0, 10.0), (p.plot.x as f64, p.plot.y as f64));
        assert_eq!(
            p.to_pixel(10.0, -10.0),
            (p.plot.right() as f64, p.plot.bottom() as f64)
        );
        let (x, y) = p.to_data(p.to_pixel(-7.0, 2.0).0, p.to_pixel(-7.0, 2.0).1);
        assert!((x + 7.0).abs() < 1e-12 && (y - 2.0).abs() < 1e-12);
        let wide = Window {
            x_max: 70.0,
            ..ARTICLE
        };
        let p = grid_layout(1, wide).unwrap().panels[0];
        assert_eq!(p.plot.width, 2 * p.plot.height, "clamped at 2:1");
        let bad = Window {
            x_max: -10.0,
            ..ARTICLE
        };
        assert!(matches!(
            grid_layout(1, bad),
            Err(FigureError::BadWindow(_))
        ));
        let nan = Window {
            y_min: f64::NAN,
            ..ARTICLE
        };
        assert!(matches!(
            grid_layout(1, nan),
            Err(FigureError::BadWindow(_))
        ));
    }

    /// Any range, however narrow for its magnitude, gets a few ticks inside it, in
    /// order, and never loops.
    #[test]
    fn ticks_stay_few_for_every_width_and_magnitude() {
        for exp in -300..=300 {
            let mid = 1.5 * 10f64.powi(exp);
            for sign in [1.0, -1.0] {
                let mid = sign * mid;
                for rel in [
                    1e-300, 1e-17, 1e-16, 4e-16, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1.0, 1e3,
                ] {
                    let lo = mid;
                    let hi = mid + (mid.abs() * rel).max(f64::MIN_POSITIVE);
                    let hi = if hi > lo { hi } else { lo.next_up() };
                    if !(hi - lo).is_finite() {
                        continue;
                    }
                    for max_count in [2, 5, 12] {
                        let (t, _) = nice_ticks(lo, hi, max_count);
                        assert!(t.len() <= max_count + 2, "{lo} {hi}: {} ticks", t.len());
                        assert!(t.windows(2).all(|w| w[0] < w[1]), "{lo} {hi}: {t:?}");
                        let slack = (hi - lo) * 1e-9;
                        assert!(
                            t.iter().all(|&v| v >= lo - slack && v <= hi + slack),
                            "{lo} {hi}: {t:?}"
                        );
                    }
                }
            }
        }
        // The reported cases.
        assert!(nice_ticks(1.0, 1.0000000000000002, 5).0.len() <= 7);
        assert!(nice_ticks(1e10, 10000000000.000002, 5).0.len() <= 7);
        assert!(nice_ticks(1.0, 1.0, 5).0.len() <= 1);
    }

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(
            nice_ticks(-10.0, 10.0, 5).0,
            vec![-10.0, -5.0, 0.0, 5.0, 10.0]
        );
        assert_eq!(
            nice_ticks(-2.0, 2.0, 8).0,
            vec![-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
        );
        let (t, step) = nice_ticks(-1.0, 3.0, 6);
        assert_eq!(step, 1.0);
        assert_eq!(t, vec![-1.0, 0.0, 1.0, 2.0, 3.0]);
        let (t, step) = nice_ticks(0.0, 1.0, 4);
        assert_eq!(step, 0.25);
        assert_eq!(tick_label(t[1], step), "0.25");
        assert_eq!(tick_label(-10.0, 5.0), "\u{2212}10");
        assert_eq!(tick_label(0.5, 0.5), "0.5");
        assert_eq!(tick_label(2e7, 1e7), "2e7");
    }

    #[test]
    fn short_numbers_keep_three_digits() {
        assert_eq!(short_number(0.000_116_4), "1.16e\u{2212}4");
        assert_eq!(short_number(0.012_64), "0.0126");
        assert_eq!(short_number(6.45), "6.45");
        assert_eq!(short_number(-2.0), "\u{2212}2");
        assert_eq!(short_number(123_456.0), "1.23e5");
        assert_eq!(short_number(0.0), "0");
    }
}
