//! Parts the figures share: the header's title, legends, axes with their ticks, the
//! contour lines, the minimum marker, and the white that covers what reached past a
//! plotting area.

use super::contours::ContourLine;
use super::draw::canvas::Canvas;
use super::draw::geometry::{clip_polyline, thin};
use super::draw::style::{
    contour_colour, series_colour, DIVERGED, FRAME, HEADER_SIZE, INK, MUTED, TICK_LENGTH,
    TICK_SIZE, WHITE,
};
use super::draw::text::{ellipsize, text_width, Label, ASCENT, EM_PER_SIZE};
use super::error::FigureError;
use super::layout::{short_number, Panel, Rect};
use crate::race::Run;
use plotters::backend::DrawingBackend;
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, FontStyle, RGBAColor, RGBColor};

/// Space around the figure's edges, in pixels.
pub(crate) const OUTER: u32 = 10;
/// Height of the band above the plot naming the landscape.
pub(crate) const HEADER: u32 = 44;
/// Width of the legend right of the plot.
pub(crate) const LEGEND_WIDTH: u32 = 270;
/// Gap between the plot and the legend.
pub(crate) const LEGEND_GAP: u32 = 34;
/// Height of one legend entry: a name line and a detail line.
pub(crate) const ENTRY: u32 = 46;

const NAME_SIZE: f64 = 15.5;
const DETAIL_SIZE: f64 = 13.0;

/// One entry of a legend: a colour, a name and a line of detail.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub name: String,
    pub detail: String,
    pub colour: RGBColor,
    /// The detail line's colour: muted, or the divergence colour.
    pub detail_colour: RGBColor,
    /// The marker the series' line carries, shown on the swatch too.
    pub marker: Option<Shape>,
}

/// A marker's shape, so that lines read apart without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// An open circle.
    Circle,
    /// A diagonal cross.
    Cross,
    /// An open square.
    Square,
    /// A filled diamond.
    Diamond,
}

impl Shape {
    /// Circle, cross, square, diamond, then round again.
    pub fn nth(index: usize) -> Shape {
        [Shape::Circle, Shape::Cross, Shape::Square, Shape::Diamond][index % 4]
    }

    /// Draws the shape centred on `(x, y)`, in figure pixels.
    pub fn draw<DB: DrawingBackend>(
        self,
        canvas: &mut Canvas<DB>,
        (x, y): (f64, f64),
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let r = 4.5;
        match self {
            Shape::Circle => canvas.ring((x, y), r, 2.0, colour),
            Shape::Cross => {
                canvas.polyline(&[(x - r, y - r), (x + r, y + r)], colour, 2.0)?;
                canvas.polyline(&[(x - r, y + r), (x + r, y - r)], colour, 2.0)
            }
            Shape::Square => canvas.polyline(
                &[
                    (x - r, y - r),
                    (x + r, y - r),
                    (x + r, y + r),
                    (x - r, y + r),
                    (x - r, y - r),
                ],
                colour,
                2.0,
            ),
            Shape::Diamond => {
                let d = r + 1.0;
                canvas.fill_polygon(&[(x, y - d), (x + d, y), (x, y + d), (x - d, y)], colour)
            }
        }
    }
}

/// A run's legend entry: its name, then its learning rate, its clipping and schedule
/// where set, and how it ended.
pub(crate) fn run_entry(run: &Run, index: usize) -> Entry {
    let shown = |k: &str| ["lr", "learning_rate", "clip", "schedule"].contains(&k);
    let lr: String = run
        .hyperparameters
        .iter()
        .filter(|(k, _)| shown(k))
        .map(|(k, v)| match k.as_str() {
            "clip" | "schedule" => format!("{v}, "),
            _ => format!("{k}={v}, "),
        })
        .collect();
    let (detail, detail_colour) = match (run.diverged_at, run.points.last()) {
        (Some(k), _) => (format!("{lr}diverged at step {k}"), DIVERGED),
        (None, None) => (format!("{lr}no step"), MUTED),
        (None, Some(&last)) => {
            let steps = if last.step == 1 { "step" } else { "steps" };
            (
                format!(
                    "{lr}f = {} after {} {steps}",
                    short_number(last.loss),
                    last.step
                ),
                MUTED,
            )
        }
    };
    Entry {
        name: run.label.clone(),
        detail,
        colour: series_colour(index),
        detail_colour,
        marker: None,
    }
}

/// Draws `entries` from (`left`, `top`) down, each within [`LEGEND_WIDTH`].
pub(crate) fn draw_legend<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    entries: &[Entry],
    (left, top): (f64, f64),
) -> Result<(), FigureError> {
    let width = LEGEND_WIDTH as f64;
    for (i, e) in entries.iter().enumerate() {
        let y = top + (i as u32 * ENTRY) as f64;
        let mid = y + 9.0;
        canvas.polyline(&[(left, mid), (left + 24.0, mid)], e.colour.to_rgba(), 2.5)?;
        match e.marker {
            Some(shape) => shape.draw(canvas, (left + 12.0, mid), e.colour.to_rgba())?,
            None => canvas.disc((left + 12.0, mid), 3.5, e.colour.to_rgba())?,
        }
        let text_left = left + 34.0;
        let room = width - 34.0;
        canvas.text(&Label {
            text: ellipsize(&e.name, NAME_SIZE, FontStyle::Bold, room)?,
            x: text_left,
            baseline: y + 15.0,
            size: NAME_SIZE,
            style: FontStyle::Bold,
            colour: INK,
            align: HPos::Left,
        })?;
        canvas.text(&Label {
            text: ellipsize(&e.detail, DETAIL_SIZE, FontStyle::Normal, room)?,
            x: text_left,
            baseline: y + 33.0,
            size: DETAIL_SIZE,
            style: FontStyle::Normal,
            colour: e.detail_colour,
            align: HPos::Left,
        })?;
    }
    Ok(())
}

/// The label of an x tick at pixel column `x`, below a plot whose bottom edge is `bottom`.
pub(crate) fn x_tick_label(text: String, x: f64, bottom: f64) -> Label {
    Label {
        text,
        x,
        baseline: bottom + TICK_LENGTH + 4.0 + ASCENT * (TICK_SIZE * EM_PER_SIZE),
        size: TICK_SIZE,
        style: FontStyle::Normal,
        colour: INK,
        align: HPos::Center,
    }
}

/// The label of a y tick at pixel row `y`, left of a plot whose left edge is `left`.
pub(crate) fn y_tick_label(text: String, left: f64, y: f64) -> Label {
    Label {
        text,
        x: left - TICK_LENGTH - 4.0,
        // Centres the digits (0.73 em tall) on the tick.
        baseline: y + 0.365 * (TICK_SIZE * EM_PER_SIZE),
        size: TICK_SIZE,
        style: FontStyle::Normal,
        colour: INK,
        align: HPos::Right,
    }
}

/// The frame of `panel`'s plotting area, outward ticks at the given positions (pixel
/// columns along x, rows along y) and their labels.
pub(crate) fn draw_axes<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    plot: Rect,
    x_ticks: &[(f64, String)],
    y_ticks: &[(f64, String)],
) -> Result<(), FigureError> {
    let (l, t, r, b) = plot.edges();
    canvas.polyline(
        &[
            (l, t),
            (r - 0.5, t),
            (r - 0.5, b - 0.5),
            (l, b - 0.5),
            (l, t),
        ],
        FRAME.to_rgba(),
        1.0,
    )?;
    for (px, text) in x_ticks {
        let x = px.min(r - 0.5);
        canvas.polyline(&[(x, b), (x, b + TICK_LENGTH)], FRAME.to_rgba(), 1.0)?;
        canvas.text(&x_tick_label(text.clone(), *px, b))?;
    }
    for (py, text) in y_ticks {
        let y = py.min(b - 0.5);
        canvas.polyline(&[(l - TICK_LENGTH, y), (l, y)], FRAME.to_rgba(), 1.0)?;
        canvas.text(&y_tick_label(text.clone(), l, *py))?;
    }
    Ok(())
}

/// Covers everything outside `plot` within `area` with white: markers and line ends
/// that reached past the plotting area.
pub(crate) fn cover_outside<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    plot: Rect,
    area: Rect,
) -> Result<(), FigureError> {
    let (l, t, r, b) = plot.edges();
    let (al, at, ar, ab) = area.edges();
    for rect in [
        (al, at, ar, t),
        (al, b, ar, ab),
        (al, t, l, b),
        (r, t, ar, b),
    ] {
        canvas.fill_rect(rect, WHITE.to_rgba())?;
    }
    Ok(())
}

/// A figure of `plot` (with `bottom` pixels below it) and a legend of `entries` to its
/// right: the legend's left edge, and the figure's width and height.
pub(crate) fn beside_legend(plot: Rect, entries: usize, bottom: u32) -> (u32, u32, u32) {
    let legend_x = plot.right() as u32 + LEGEND_GAP;
    let width = legend_x + LEGEND_WIDTH + OUTER;
    let legend_bottom = plot.y as u32 + entries as u32 * ENTRY;
    let height = (plot.bottom() as u32 + bottom).max(legend_bottom) + OUTER;
    (legend_x, width, height)
}

/// The header line: `title` in bold, then `subtitle` muted as far as there is room.
pub(crate) fn draw_title<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    title: &str,
    subtitle: &str,
    left: f64,
    right: f64,
) -> Result<(), FigureError> {
    let baseline = 28.0;
    let title = ellipsize(title, HEADER_SIZE, FontStyle::Bold, right - left)?;
    let used = text_width(&title, HEADER_SIZE, FontStyle::Bold)?;
    canvas.text(&Label {
        text: title,
        x: left,
        baseline,
        size: HEADER_SIZE,
        style: FontStyle::Bold,
        colour: INK,
        align: HPos::Left,
    })?;
    let room = right - left - used - 14.0;
    if !subtitle.is_empty() && text_width(subtitle, HEADER_SIZE, FontStyle::Normal)? <= room {
        canvas.text(&Label {
            text: subtitle.to_string(),
            x: left + used + 14.0,
            baseline,
            size: HEADER_SIZE,
            style: FontStyle::Normal,
            colour: MUTED,
            align: HPos::Left,
        })?;
    }
    Ok(())
}

/// The minimum marker: a dark + with a white halo, so it reads over contour lines.
pub(crate) fn plus<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    (x, y): (f64, f64),
) -> Result<(), FigureError> {
    let arm = 7.0;
    for (colour, width, extra) in [(WHITE, 4.0, 1.0), (INK, 2.0, 0.0)] {
        canvas.polyline(
            &[(x - arm - extra, y), (x + arm + extra, y)],
            colour.to_rgba(),
            width,
        )?;
        canvas.polyline(
            &[(x, y - arm - extra), (x, y + arm + extra)],
            colour.to_rgba(),
            width,
        )?;
    }
    Ok(())
}

pub(super) fn draw_contours<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    contours: &[ContourLine],
    panel: &Panel,
) -> Result<(), FigureError> {
    for line in contours {
        let colour = contour_colour(line.rank);
        for ring in &line.rings {
            for piece in clip_polyline(ring, &panel.window) {
                let pixels = thin(piece.iter().map(|&(x, y)| panel.to_pixel(x, y)), 0.75);
                canvas.polyline(&pixels, colour, 1.0)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::article;
    use crate::race::{Race, Wrapping};

    /// The legend names the clipping and the schedule a run was wrapped in, in their
    /// short forms, and leaves them out where none was set.
    #[test]
    fn legend_entries_show_clipping_and_schedule() {
        let landscape = article();
        let mut race = Race {
            steps: 3,
            optimizers: vec!["sgd:lr=0.9".parse().unwrap()],
            ..Race::article()
        };
        let plain = race.run::<f64>(&landscape).unwrap();
        let entry = run_entry(&plain[0], 0);
        assert!(entry.detail.starts_with("lr=0.9, f = "), "{}", entry.detail);
        race.wrapping = Wrapping {
            schedule: Some("steplr:step_size=2".parse().unwrap()),
            clip: Some("clip_grad_norm:max_norm=1".parse().unwrap()),
        };
        let wrapped = race.run::<f64>(&landscape).unwrap();
        let entry = run_entry(&wrapped[0], 0);
        assert!(
            entry
                .detail
                .starts_with("lr=0.9, clip_grad_norm:max_norm=1, steplr:step_size=2, f = "),
            "{}",
            entry.detail
        );
    }
}
