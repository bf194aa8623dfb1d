//! The overlay view: every trajectory on one contour plot, each in its own colour, with
//! a legend naming the optimizers, their learning rates and how they ended.

use super::axis::{Axis, Scale};
use super::contours::{contour_lines, ContourLine};
use super::draw::canvas::{encode, Canvas, Drawing};
use super::draw::geometry::{clip_polyline, thin};
use super::draw::style::{
    series_colour, series_dash, DOT_RADIUS, END_HALF, HEADER_SIZE, INK, LINE_WIDTH, START_RADIUS,
    WHITE,
};
use super::draw::text::{text_width, Label};
use super::error::FigureError;
use super::format::Format;
use super::layout::{short_number, Panel, Rect, BOTTOM, LEFT};
use super::parts::{
    beside_legend, cover_outside, draw_axes, draw_contours, draw_legend, draw_title, exit_arrows,
    plus, plus_layers, run_entry, Entry, HEADER, OUTER,
};
use crate::landscape::{Landscape, Window};
use crate::race::Run;
use plotters::backend::DrawingBackend;
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, FontStyle};

/// The largest side of the plotting area; the window's aspect ratio picks the part used.
const PLOT_BOX: u32 = 560;
/// Windows more elongated than this are stretched rather than drawn as a thin strip.
const MAX_ASPECT: f64 = 2.0;
/// Room between the header and the plotting area.
const TOP: u32 = 14;

/// Where the overlay's parts go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverlayLayout {
    /// Figure width in pixels.
    pub width: u32,
    /// Figure height in pixels.
    pub height: u32,
    /// The plotting area and the window it shows.
    pub panel: Panel,
    /// The top left corner of the legend: one entry per run, a fixed number of pixels apart.
    pub legend: (f64, f64),
}

/// The overlay's geometry for `runs` runs on `window`: the plotting area keeps the
/// window's aspect ratio unless it is more elongated than 2:1; the legend, right of it,
/// makes the figure taller when there are many runs.
pub fn overlay_layout(window: Window, runs: usize) -> Result<OverlayLayout, FigureError> {
    if runs == 0 {
        return Err(FigureError::NoRuns);
    }
    let (dx, dy) = (window.x_max - window.x_min, window.y_max - window.y_min);
    if Window::new(window.x_min, window.x_max, window.y_min, window.y_max).is_err() {
        return Err(FigureError::BadWindow(window));
    }
    let aspect = (dx / dy).clamp(1.0 / MAX_ASPECT, MAX_ASPECT);
    let (w, h) = if aspect >= 1.0 {
        (PLOT_BOX, (PLOT_BOX as f64 / aspect).round() as u32)
    } else {
        ((PLOT_BOX as f64 * aspect).round() as u32, PLOT_BOX)
    };
    let plot = Rect {
        x: (OUTER + LEFT) as i32,
        y: (HEADER + TOP) as i32,
        width: w,
        height: h,
    };
    let (legend_x, width, height) = beside_legend(plot, runs, BOTTOM);
    Ok(OverlayLayout {
        width,
        height,
        panel: Panel {
            cell: Rect {
                x: 0,
                y: HEADER as i32,
                width: legend_x - 4,
                height: height - HEADER,
            },
            plot,
            window,
        },
        legend: (legend_x as f64, plot.y as f64),
    })
}

/// Every run of `runs` on one contour plot of `landscape`, encoded as `format`.
pub fn overlay(
    landscape: &dyn Landscape,
    runs: &[Run],
    format: Format,
) -> Result<Vec<u8>, FigureError> {
    let layout = overlay_layout(landscape.window(), runs.len())?;
    let contours = contour_lines(landscape, landscape.window())?;
    encode(
        &Overlay {
            landscape,
            runs,
            layout,
            contours,
        },
        format,
    )
}

struct Overlay<'a> {
    landscape: &'a dyn Landscape,
    runs: &'a [Run],
    layout: OverlayLayout,
    contours: Vec<ContourLine>,
}

impl Drawing for Overlay<'_> {
    fn size(&self) -> (u32, u32) {
        (self.layout.width, self.layout.height)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), FigureError> {
        let layout = &self.layout;
        let panel = layout.panel;
        let (plot, window) = (panel.plot, panel.window);
        draw_contours(canvas, &self.contours, &panel)?;
        for (x, y) in self.landscape.minima() {
            if window.contains(x, y) {
                plus_layers(canvas, panel.to_pixel(x, y), true, false)?;
            }
        }
        for (i, run) in self.runs.iter().enumerate() {
            let colour = series_colour(i).to_rgba();
            let path: Vec<(f64, f64)> = run.points.iter().map(|p| (p.x, p.y)).collect();
            for piece in clip_polyline(&path, &window) {
                let pixels = thin(piece.iter().map(|&(x, y)| panel.to_pixel(x, y)), 0.5);
                canvas.styled_line(&pixels, colour, LINE_WIDTH, series_dash(i))?;
            }
            let inside = path.iter().filter(|&&(x, y)| window.contains(x, y));
            for c in thin(inside.map(|&(x, y)| panel.to_pixel(x, y)), 1.5) {
                canvas.disc(c, DOT_RADIUS - 0.5, colour)?;
            }
        }
        // Ends over every line, so that none hides another's end.
        for (i, run) in self.runs.iter().enumerate() {
            let colour = series_colour(i).to_rgba();
            let Some(last) = run.points.last().filter(|p| window.contains(p.x, p.y)) else {
                continue;
            };
            let (cx, cy) = panel.to_pixel(last.x, last.y);
            if run.diverged_at.is_some() {
                let arm = 6.0;
                for (width, ink) in [(4.5, WHITE.to_rgba()), (2.5, colour)] {
                    canvas.polyline(&[(cx - arm, cy - arm), (cx + arm, cy + arm)], ink, width)?;
                    canvas.polyline(&[(cx - arm, cy + arm), (cx + arm, cy - arm)], ink, width)?;
                }
            } else {
                let h = END_HALF;
                canvas.fill_rect(
                    (cx - h - 1.5, cy - h - 1.5, cx + h + 1.5, cy + h + 1.5),
                    WHITE.to_rgba(),
                )?;
                canvas.fill_rect((cx - h, cy - h, cx + h, cy + h), colour)?;
            }
        }
        // Where a run left the window, an arrow on the edge, pointing the way it went.
        for (i, run) in self.runs.iter().enumerate() {
            let path: Vec<(f64, f64)> = run.points.iter().map(|p| (p.x, p.y)).collect();
            exit_arrows(canvas, &panel, &path, series_colour(i).to_rgba())?;
        }
        // The minima's + over every trail and end (their halo went under them).
        for (x, y) in self.landscape.minima() {
            if window.contains(x, y) {
                plus_layers(canvas, panel.to_pixel(x, y), false, true)?;
            }
        }

        cover_outside(canvas, plot, panel.cell)?;
        // Start rings after the cover, so that one on the window's edge shows whole.
        let mut starts: Vec<(f64, f64)> = Vec::new();
        for p in self.runs.iter().filter_map(|r| r.points.first()) {
            if window.contains(p.x, p.y) && !starts.contains(&(p.x, p.y)) {
                starts.push((p.x, p.y));
                canvas.ring(panel.to_pixel(p.x, p.y), START_RADIUS, 2.0, INK.to_rgba())?;
            }
        }
        let ticks = |lo: f64, hi: f64, pixels: u32| {
            Axis {
                scale: Scale::Linear,
                lo,
                hi,
            }
            .ticks((pixels / 85).max(3) as usize)
        };
        let x_ticks: Vec<(f64, String)> = ticks(window.x_min, window.x_max, plot.width)
            .into_iter()
            .map(|(t, s)| (panel.to_pixel(t, window.y_min).0, s))
            .collect();
        let y_ticks: Vec<(f64, String)> = ticks(window.y_min, window.y_max, plot.height)
            .into_iter()
            .map(|(t, s)| (panel.to_pixel(window.x_min, t).1, s))
            .collect();
        draw_axes(canvas, plot, &x_ticks, &y_ticks)?;
        for (text, x, baseline) in [
            (
                "x",
                (plot.x + plot.right()) as f64 / 2.0,
                plot.bottom() as f64 + 44.0,
            ),
            (
                "y",
                (OUTER + 12) as f64,
                (plot.y + plot.bottom()) as f64 / 2.0 + 4.0,
            ),
        ] {
            canvas.text(&Label {
                text: text.into(),
                x,
                baseline,
                size: 18.0,
                style: FontStyle::Italic,
                colour: INK,
                align: HPos::Center,
            })?;
        }

        let entries: Vec<Entry> = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| run_entry(r, i))
            .collect();
        draw_legend(canvas, &entries, layout.legend, plot.height)?;
        let diverged = self.runs.iter().any(|r| r.diverged_at.is_some());
        let minima = self
            .landscape
            .minima()
            .iter()
            .any(|&(x, y)| window.contains(x, y));
        let key_left = draw_key(canvas, (layout.width - OUTER) as f64, diverged, minima)?;
        let subtitle = match starts.as_slice() {
            [(x, y)] => format!("from ({}, {})", short_number(*x), short_number(*y)),
            _ => String::new(),
        };
        draw_title(
            canvas,
            &format!("f(x, y) = {}", self.landscape.formula()),
            &subtitle,
            plot.x as f64,
            key_left - 24.0,
        )
    }
}

/// The marker key, right-aligned at `right` in the header: ○ start, ■ end, then
/// × diverged and + minimum if the figure shows any. Returns its left end.
fn draw_key<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    right: f64,
    diverged: bool,
    minima: bool,
) -> Result<f64, FigureError> {
    let size = HEADER_SIZE - 2.0;
    let shown = [true, true, diverged, minima];
    let items: Vec<(usize, &str)> = ["start", "end", "diverged", "minimum"]
        .into_iter()
        .enumerate()
        .filter(|&(k, _)| shown[k])
        .collect();
    let symbol = 22.0;
    let gap = 16.0;
    let mut widths = Vec::new();
    for (_, text) in &items {
        widths.push(text_width(text, size, FontStyle::Normal)?);
    }
    let total: f64 =
        widths.iter().map(|w| symbol + w).sum::<f64>() + gap * (items.len() - 1) as f64;
    let left = right - total;
    let baseline = 28.0;
    let mid = baseline - 0.3 * HEADER_SIZE / 1.164;
    let mut x = left;
    for (&(k, text), w) in items.iter().zip(&widths) {
        let c = (x + 8.0, mid);
        let ink = INK.to_rgba();
        match k {
            0 => canvas.ring(c, START_RADIUS - 2.0, 2.0, ink)?,
            1 => canvas.fill_rect(
                (
                    c.0 - END_HALF,
                    c.1 - END_HALF,
                    c.0 + END_HALF,
                    c.1 + END_HALF,
                ),
                ink,
            )?,
            2 => {
                let arm = 5.5;
                canvas.polyline(&[(c.0 - arm, c.1 - arm), (c.0 + arm, c.1 + arm)], ink, 2.5)?;
                canvas.polyline(&[(c.0 - arm, c.1 + arm), (c.0 + arm, c.1 - arm)], ink, 2.5)?;
            }
            _ => plus(canvas, c)?,
        }
        canvas.text(&Label {
            text: text.to_string(),
            x: x + symbol,
            baseline,
            size,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Left,
        })?;
        x += symbol + w + gap;
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figure::parts::{ENTRY, LEGEND_WIDTH};

    #[test]
    fn the_legend_sits_right_of_the_plot_and_grows_with_the_runs() {
        let square = Window::new(-10.0, 10.0, -10.0, 10.0).unwrap();
        let few = overlay_layout(square, 4).unwrap();
        let plot = few.panel.plot;
        assert_eq!((plot.width, plot.height), (PLOT_BOX, PLOT_BOX));
        assert!(few.legend.0 >= plot.right() as f64 + 20.0);
        assert_eq!(few.height, plot.bottom() as u32 + BOTTOM + OUTER);
        let many = overlay_layout(square, 20).unwrap();
        // Twenty entries: two columns of ten, beside the plot.
        assert_eq!(many.height, few.height);
        assert_eq!(many.width, few.width + LEGEND_WIDTH);
        assert!(10 * ENTRY <= plot.height);
        let wide = overlay_layout(Window::new(0.0, 10.0, 0.0, 1.0).unwrap(), 1).unwrap();
        assert_eq!(
            wide.panel.plot.width,
            2 * wide.panel.plot.height,
            "clamped at 2:1"
        );
        assert_eq!(overlay_layout(square, 0), Err(FigureError::NoRuns));
        let flat = Window {
            y_max: -10.0,
            ..square
        };
        assert_eq!(overlay_layout(flat, 1), Err(FigureError::BadWindow(flat)));
    }
}
