//! Parts the figures share: the header's title, legends, axes with their ticks, the
//! contour lines, the minimum marker, and the white that covers what reached past a
//! plotting area.

use super::contours::ContourLine;
use super::draw::canvas::Canvas;
use super::draw::geometry::{clip_polyline, exits, thin};
use super::draw::style::{
    contour_colour, series_colour, series_dash, DIVERGED, FRAME, HEADER_SIZE, INK, MUTED,
    TICK_LENGTH, TICK_SIZE, WHITE,
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
const DETAIL_SIZES: [f64; 3] = [13.0, 12.0, 11.0];

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
    /// Dashes (dash, gap) for a line that shares its colour with an earlier one.
    pub dash: Option<(f64, f64)>,
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
        dash: series_dash(index),
    }
}

/// How many legend entries go in one column beside a plot `plot_height` pixels tall:
/// as many as fit along it, so that a long legend wraps into columns rather than
/// growing far below the plot.
pub(crate) fn legend_rows(plot_height: u32, entries: usize) -> usize {
    let fit = (plot_height / ENTRY).max(1) as usize;
    let columns = entries.div_ceil(fit).max(1);
    entries.div_ceil(columns).max(1)
}

/// Draws `entries` from (`left`, `top`) down, as many to a column as fit beside a plot
/// `plot_height` pixels tall ([`legend_rows`]), each column
/// [`LEGEND_WIDTH`] wide. A detail too long for its column is set smaller before it
/// is shortened.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    entries: &[Entry],
    (left, top): (f64, f64),
    plot_height: u32,
) -> Result<(), FigureError> {
    let rows = legend_rows(plot_height, entries.len());
    let width = LEGEND_WIDTH as f64;
    for (i, e) in entries.iter().enumerate() {
        let (column, row) = (i / rows.max(1), i % rows.max(1));
        let left = left + column as f64 * width;
        let y = top + (row as u32 * ENTRY) as f64;
        let mid = y + 9.0;
        canvas.styled_line(
            &[(left, mid), (left + 24.0, mid)],
            e.colour.to_rgba(),
            2.5,
            e.dash.map(|(on, off)| (on.min(5.0), off.min(3.0))),
        )?;
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
        let mut size = DETAIL_SIZES[DETAIL_SIZES.len() - 1];
        for candidate in DETAIL_SIZES {
            if text_width(&e.detail, candidate, FontStyle::Normal)? <= room {
                size = candidate;
                break;
            }
        }
        canvas.text(&Label {
            text: ellipsize(&e.detail, size, FontStyle::Normal, room)?,
            x: text_left,
            baseline: y + 33.0,
            size,
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
/// right, in as many columns as [`legend_rows`] needs: the legend's left edge, and the
/// figure's width and height.
pub(crate) fn beside_legend(plot: Rect, entries: usize, bottom: u32) -> (u32, u32, u32) {
    let rows = legend_rows(plot.height, entries);
    let columns = entries.div_ceil(rows).max(1) as u32;
    let legend_x = plot.right() as u32 + LEGEND_GAP;
    let width = legend_x + columns * LEGEND_WIDTH + OUTER;
    let legend_bottom = plot.y as u32 + rows as u32 * ENTRY;
    let height = (plot.bottom() as u32 + bottom).max(legend_bottom) + OUTER;
    (legend_x, width, height)
}

/// The sizes a header's title may take, largest first; at the smallest it wraps.
const TITLE_SIZES: [f64; 6] = [HEADER_SIZE, 16.0, 15.0, 14.0, 13.0, 12.0];

/// How `title` is set within `room` pixels: at the largest size of [`TITLE_SIZES`]
/// that fits on one line, else at the smallest on two lines, broken at a space (or
/// anywhere when a word is too long); never cut. Returns the size and the lines.
pub(crate) fn title_lines(title: &str, room: f64) -> Result<(f64, Vec<String>), FigureError> {
    let style = FontStyle::Bold;
    for size in TITLE_SIZES {
        if text_width(title, size, style)? <= room {
            return Ok((size, vec![title.to_string()]));
        }
    }
    let size = TITLE_SIZES[TITLE_SIZES.len() - 1];
    // The longest first line that fits, preferring a break at a space.
    let chars: Vec<char> = title.chars().collect();
    let mut fit = 1;
    for k in 1..=chars.len() {
        let head: String = chars[..k].iter().collect();
        if text_width(head.trim_end(), size, style)? > room {
            break;
        }
        fit = k;
    }
    let space = chars[..fit]
        .iter()
        .rposition(|&c| c == ' ')
        .filter(|&i| i > fit / 2);
    let cut = match space {
        Some(i) if fit < chars.len() => i + 1,
        _ => fit,
    };
    let first: String = chars[..cut].iter().collect();
    let rest: String = chars[cut..].iter().collect();
    Ok((
        size,
        vec![first.trim_end().to_string(), rest.trim().to_string()],
    ))
}

/// The header: `title` in bold (smaller, or on two lines, when it is long; never cut),
/// then `subtitle` muted after its last line as far as there is room.
pub(crate) fn draw_title<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    title: &str,
    subtitle: &str,
    left: f64,
    right: f64,
) -> Result<(), FigureError> {
    let (size, lines) = title_lines(title, right - left)?;
    let baselines: &[f64] = if lines.len() == 1 {
        &[28.0]
    } else {
        &[18.0, 34.0]
    };
    let mut used = 0.0;
    for (line, &baseline) in lines.iter().zip(baselines) {
        used = text_width(line, size, FontStyle::Bold)?;
        canvas.text(&Label {
            text: line.clone(),
            x: left,
            baseline,
            size,
            style: FontStyle::Bold,
            colour: INK,
            align: HPos::Left,
        })?;
    }
    let baseline = baselines[lines.len() - 1];
    let room = right - left - used - 14.0;
    if !subtitle.is_empty() && text_width(subtitle, size, FontStyle::Normal)? <= room {
        canvas.text(&Label {
            text: subtitle.to_string(),
            x: left + used + 14.0,
            baseline,
            size,
            style: FontStyle::Normal,
            colour: MUTED,
            align: HPos::Left,
        })?;
    }
    Ok(())
}

/// An arrowhead on `panel`'s edge wherever `path` (in data units) leaves its window,
/// one per place (exits within 12 pixels of a marked one are not marked again).
pub(crate) fn exit_arrows<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    panel: &Panel,
    path: &[(f64, f64)],
    colour: RGBAColor,
) -> Result<(), FigureError> {
    let mut marked: Vec<(f64, f64)> = Vec::new();
    for (at, direction) in exits(path, &panel.window) {
        let tip = panel.to_pixel(at.0, at.1);
        if marked
            .iter()
            .all(|m| (m.0 - tip.0).hypot(m.1 - tip.1) > 12.0)
        {
            marked.push(tip);
            exit_arrow(canvas, tip, direction, colour)?;
        }
    }
    Ok(())
}

/// An arrowhead in `colour`, its tip at `tip` (where a path left the plot, on its
/// edge), pointing along `direction` (in data units: y up), with a white rim.
fn exit_arrow<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    tip: (f64, f64),
    direction: (f64, f64),
    colour: RGBAColor,
) -> Result<(), FigureError> {
    // Pixels run down: flip y.
    let (dx, dy) = (direction.0, -direction.1);
    let norm = dx.hypot(dy);
    if !(norm > 0.0 && norm.is_finite()) {
        return Ok(());
    }
    let (ux, uy) = (dx / norm, dy / norm);
    for (length, half, ink) in [(17.0, 8.5, WHITE.to_rgba()), (14.0, 6.5, colour)] {
        let back = (tip.0 - ux * length, tip.1 - uy * length);
        let inset = if length > 15.0 { -1.5 } else { 0.0 };
        let point = (tip.0 - ux * inset, tip.1 - uy * inset);
        canvas.fill_polygon(
            &[
                point,
                (back.0 - uy * half, back.1 + ux * half),
                (back.0 + uy * half, back.1 - ux * half),
            ],
            ink,
        )?;
    }
    Ok(())
}

/// The minimum marker: a dark + with a white halo, so it reads over contour lines.
pub(crate) fn plus<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    c: (f64, f64),
) -> Result<(), FigureError> {
    plus_layers(canvas, c, true, true)
}

/// The minimum marker in two layers: its white halo (drawn under the trails, so that
/// they stay whole) and its dark + (drawn over them, so that it shows).
pub(crate) fn plus_layers<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    (x, y): (f64, f64),
    halo: bool,
    ink: bool,
) -> Result<(), FigureError> {
    let arm = 7.0;
    let layers = [(WHITE, 4.0, 1.0, halo), (INK, 2.0, 0.0, ink)];
    for (colour, width, extra, _) in layers.into_iter().filter(|l| l.3) {
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
    for label in super::contour_labels::contour_labels(contours, panel)? {
        let (l, t, r, b) = label.bounds()?;
        canvas.fill_rect((l - 2.0, t, r + 2.0, b), WHITE.to_rgba())?;
        canvas.text(&label)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{article, builtin, Landscape};
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

    #[test]
    fn a_long_title_shrinks_then_wraps_but_is_never_cut() {
        let short = "f(x, y) = x^2 + y^2";
        assert_eq!(
            title_lines(short, 600.0).unwrap(),
            (HEADER_SIZE, vec![short.to_string()])
        );
        let ackley = format!("f(x, y) = {}", builtin("ackley").unwrap().formula());
        let full = text_width(&ackley, HEADER_SIZE, FontStyle::Bold).unwrap();
        // A bit too long: smaller, on one line.
        let (size, lines) = title_lines(&ackley, full * 0.9).unwrap();
        assert!(size < HEADER_SIZE && lines == vec![ackley.clone()]);
        // Far too long: two lines at the smallest size, each within the room, whole.
        let room = full * 0.55;
        let (size, lines) = title_lines(&ackley, room).unwrap();
        assert_eq!((size, lines.len()), (12.0, 2));
        for line in &lines {
            assert!(
                text_width(line, size, FontStyle::Bold).unwrap() <= room,
                "{line}"
            );
            assert!(!line.contains('…'));
        }
        let joined: String = lines.concat().split_whitespace().collect();
        let wanted: String = ackley.split_whitespace().collect();
        assert_eq!(joined, wanted);
    }

    #[test]
    fn legends_take_as_many_rows_as_fit_beside_the_plot() {
        assert_eq!(legend_rows(420, 4), 4);
        // 420 px hold 9 entries: 20 go in 3 columns of 7.
        assert_eq!(legend_rows(420, 20), 7);
        let plot = Rect {
            x: 0,
            y: 50,
            width: 100,
            height: 420,
        };
        let (_, one, _) = beside_legend(plot, 4, 60);
        let (_, three, height) = beside_legend(plot, 20, 60);
        assert_eq!(three - one, 2 * LEGEND_WIDTH);
        assert_eq!(height, 50 + 420 + 60 + OUTER);
    }
}
