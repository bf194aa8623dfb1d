//! The grid figure's labels: each panel's title, ticks and axis titles planned so that
//! nothing overlaps (the tests check it), and notes placed where they cross the
//! trajectory least.

use super::draw::canvas::Canvas;
use super::draw::geometry::{clip_segment, Segment};
use super::draw::style::{
    AXIS_SIZE, DIVERGED, INK, MUTED, NOTE_SIZE, PARAMETER_SIZES, START_RADIUS, STATUS_SIZES,
    TICK_LENGTH, TITLE_SIZE, WHITE,
};
use super::draw::text::{ellipsize, text_width, Bounds, Label, ASCENT, DESCENT, EM_PER_SIZE};
use super::error::FigureError;
use super::layout::{nice_ticks, short_number, tick_label, Panel};
use super::parts::{x_tick_label, y_tick_label};
use crate::landscape::Window;
use crate::race::Run;
use plotters::backend::DrawingBackend;
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, FontStyle};

#[cfg(test)]
fn intersects(a: Bounds, b: Bounds) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Everything outside a panel's plotting area: titles, tick positions and labels.
#[derive(Clone)]
pub(crate) struct PanelPlan {
    pub labels: Vec<Label>,
    /// Pixel columns of the x ticks.
    pub x_ticks: Vec<f64>,
    /// Pixel rows of the y ticks.
    pub y_ticks: Vec<f64>,
}

/// The panel's title: the optimizer's name, its status at the right, then its
/// hyperparameters on one or two lines, smaller if needed; its ticks, spaced so that
/// their labels never touch; its axis titles.
pub(crate) fn plan_panel(panel: &Panel, run: &Run) -> Result<PanelPlan, FigureError> {
    let (plot, cell) = (panel.plot, panel.cell);
    let (left, right) = (plot.x as f64, plot.right() as f64);
    let (top, bottom) = (plot.y as f64, plot.bottom() as f64);
    let width = plot.width as f64;
    let mut labels = Vec::new();

    let first_baseline = cell.y as f64 + 29.0;
    let name = Label {
        text: ellipsize(&run.label, TITLE_SIZE, FontStyle::Bold, width * 0.6)?,
        x: left,
        baseline: first_baseline,
        size: TITLE_SIZE,
        style: FontStyle::Bold,
        colour: INK,
        align: HPos::Left,
    };
    let room = width - text_width(&name.text, name.size, name.style)? - 18.0;
    labels.push(name);
    let (status, colour) = match run.diverged_at {
        Some(k) => (format!("diverged at step {k}"), DIVERGED),
        None => {
            let last = run.last();
            let steps = if last.step == 1 { "step" } else { "steps" };
            (
                format!(
                    "f = {} after {} {steps}",
                    short_number(last.loss),
                    last.step
                ),
                MUTED,
            )
        }
    };
    let mut status_size = STATUS_SIZES[STATUS_SIZES.len() - 1];
    for size in STATUS_SIZES {
        if text_width(&status, size, FontStyle::Normal)? <= room {
            status_size = size;
            break;
        }
    }
    labels.push(Label {
        text: ellipsize(&status, status_size, FontStyle::Normal, room)?,
        x: right,
        baseline: first_baseline,
        size: status_size,
        style: FontStyle::Normal,
        colour,
        align: HPos::Right,
    });

    let parts: Vec<String> = run
        .hyperparameters
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let (size, lines) = wrap(&parts, width)?;
    for (k, line) in lines.into_iter().enumerate() {
        labels.push(Label {
            text: line,
            x: left,
            baseline: cell.y as f64 + 52.0 + 17.0 * k as f64,
            size,
            style: FontStyle::Normal,
            colour: MUTED,
            align: HPos::Left,
        });
    }

    // x ticks: as many as fit with at least 14 px between neighbouring labels.
    let window = panel.window;
    let mut x_ticks = Vec::new();
    for max_count in (2..=(plot.width / 85).max(2) as usize).rev() {
        let (ticks, step) = nice_ticks(window.x_min, window.x_max, max_count);
        let candidate: Vec<Label> = ticks
            .iter()
            .map(|&t| {
                x_tick_label(
                    tick_label(t, step),
                    panel.to_pixel(t, window.y_min).0,
                    bottom,
                )
            })
            .collect();
        let boxes = candidate
            .iter()
            .map(Label::bounds)
            .collect::<Result<Vec<_>, _>>()?;
        let spaced = boxes.windows(2).all(|b| b[1].0 - b[0].2 >= 14.0);
        let inside = boxes
            .iter()
            .all(|b| b.0 >= cell.x as f64 && b.2 <= cell.right() as f64);
        if (spaced && inside) || max_count == 2 {
            x_ticks = ticks
                .iter()
                .map(|&t| panel.to_pixel(t, window.y_min).0)
                .collect();
            labels.extend(candidate);
            break;
        }
    }
    // y ticks: at least two label heights apart, and three on a short panel (two
    // would let a step of 2.5 leave only 0 on ±2.4).
    let (ticks, step) = nice_ticks(
        window.y_min,
        window.y_max,
        (plot.height / 85).max(3) as usize,
    );
    let y_ticks: Vec<f64> = ticks
        .iter()
        .map(|&t| panel.to_pixel(window.x_min, t).1)
        .collect();
    let mut label_left = left - TICK_LENGTH - 4.0;
    for (&t, &py) in ticks.iter().zip(&y_ticks) {
        let label = y_tick_label(tick_label(t, step), left, py);
        label_left = label_left.min(label.bounds()?.0);
        labels.push(label);
    }

    let axis_em = AXIS_SIZE * EM_PER_SIZE;
    labels.push(Label {
        text: "x".into(),
        x: (left + right) / 2.0,
        baseline: bottom + 44.0,
        size: AXIS_SIZE,
        style: FontStyle::Italic,
        colour: INK,
        align: HPos::Center,
    });
    let y_width = text_width("y", AXIS_SIZE, FontStyle::Italic)?;
    labels.push(Label {
        text: "y".into(),
        x: (label_left - 12.0 - y_width / 2.0).max(cell.x as f64 + 4.0 + y_width / 2.0),
        baseline: (top + bottom) / 2.0 + 0.25 * axis_em,
        size: AXIS_SIZE,
        style: FontStyle::Italic,
        colour: INK,
        align: HPos::Center,
    });
    Ok(PanelPlan {
        labels,
        x_ticks,
        y_ticks,
    })
}

/// The hyperparameters on at most two lines of `width`, at the largest size that fits;
/// at the smallest size the second line is cut short with an ellipsis.
fn wrap(parts: &[String], width: f64) -> Result<(f64, Vec<String>), FigureError> {
    if parts.is_empty() {
        return Ok((PARAMETER_SIZES[0], vec!["no hyperparameters".into()]));
    }
    let style = FontStyle::Normal;
    let mut lines = Vec::new();
    let mut size = PARAMETER_SIZES[0];
    for candidate in PARAMETER_SIZES {
        size = candidate;
        lines.clear();
        let mut current = String::new();
        for part in parts {
            let joined = if current.is_empty() {
                part.clone()
            } else {
                format!("{current}, {part}")
            };
            if current.is_empty() || text_width(&format!("{joined},"), size, style)? <= width {
                current = joined;
            } else {
                lines.push(format!("{current},"));
                current = part.clone();
            }
        }
        lines.push(current);
        if lines.len() <= 2
            && lines
                .iter()
                .all(|l| text_width(l, size, style).is_ok_and(|w| w <= width))
        {
            return Ok((size, lines));
        }
    }
    let rest = lines[1..].join(" ");
    let first = ellipsize(&lines[0], size, style, width)?;
    Ok((size, vec![first, ellipsize(&rest, size, style, width)?]))
}

/// "start" left of, right of, above or below the start marker `c`, in that preference.
pub(crate) fn start_candidates(c: (f64, f64)) -> Vec<Vec<Label>> {
    let em = NOTE_SIZE * EM_PER_SIZE;
    let gap = START_RADIUS + 5.0;
    let label = |x: f64, baseline: f64, align: HPos| Label {
        text: "start".into(),
        x,
        baseline,
        size: NOTE_SIZE,
        style: FontStyle::Normal,
        colour: INK,
        align,
    };
    vec![
        vec![label(c.0 - gap, c.1 + 0.365 * em, HPos::Right)],
        vec![label(c.0 + gap, c.1 + 0.365 * em, HPos::Left)],
        vec![label(c.0, c.1 - gap - DESCENT * em, HPos::Center)],
        vec![label(c.0, c.1 + gap + ASCENT * em, HPos::Center)],
    ]
}

/// `lines` stacked in each corner of `inner`: bottom left, top left, bottom right, top
/// right.
pub(crate) fn corner_candidates(lines: &[String], inner: Bounds) -> Vec<Vec<Label>> {
    let em = NOTE_SIZE * EM_PER_SIZE;
    let step = 1.25 * em;
    let height = ASCENT * em + step * (lines.len() - 1) as f64 + DESCENT * em;
    let block = |x: f64, top: f64, align: HPos| -> Vec<Label> {
        lines
            .iter()
            .enumerate()
            .map(|(k, text)| Label {
                text: text.clone(),
                x,
                baseline: top + ASCENT * em + step * k as f64,
                size: NOTE_SIZE,
                style: FontStyle::Normal,
                colour: INK,
                align,
            })
            .collect()
    };
    let (l, t, r, b) = (inner.0 + 4.0, inner.1 + 4.0, inner.2 - 4.0, inner.3 - 4.0);
    vec![
        block(l, b - height, HPos::Left),
        block(l, t, HPos::Left),
        block(r, b - height, HPos::Right),
        block(r, t, HPos::Right),
    ]
}

/// The box around a group of labels.
fn group_bounds(labels: &[Label]) -> Result<Bounds, FigureError> {
    let mut out = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for label in labels {
        let b = label.bounds()?;
        out = (
            out.0.min(b.0),
            out.1.min(b.1),
            out.2.max(b.2),
            out.3.max(b.3),
        );
    }
    Ok(out)
}

/// Of `candidates`, the first that fits inside `inner`, crosses the fewest trajectory
/// `segments` and overlaps nothing already `placed`.
pub(crate) fn place(
    candidates: Vec<Vec<Label>>,
    segments: &[Segment],
    inner: Bounds,
    placed: &[Bounds],
) -> Result<Vec<Label>, FigureError> {
    let mut best: Option<(usize, Vec<Label>)> = None;
    for candidate in candidates {
        let b = group_bounds(&candidate)?;
        let fits = b.0 >= inner.0 && b.1 >= inner.1 && b.2 <= inner.2 && b.3 <= inner.3;
        let grown = Window {
            x_min: b.0 - 5.0,
            x_max: b.2 + 5.0,
            y_min: b.1 - 5.0,
            y_max: b.3 + 5.0,
        };
        let crossed = segments
            .iter()
            .filter(|&&(p, q)| clip_segment(p, q, &grown).is_some())
            .count();
        let overlaps = placed
            .iter()
            .filter(|o| o.0 < b.2 && b.0 < o.2 && o.1 < b.3 && b.1 < o.3)
            .count();
        let cost = crossed + 100 * overlaps + if fits { 0 } else { 10_000 };
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, candidate));
        }
    }
    Ok(best.map(|(_, labels)| labels).unwrap_or_default())
}

/// Draws `labels` on a white halo; their box.
pub(crate) fn draw_labels<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    labels: &[Label],
) -> Result<Bounds, FigureError> {
    let b = group_bounds(labels)?;
    canvas.fill_rect(
        (b.0 - 3.0, b.1 - 2.0, b.2 + 3.0, b.3 + 2.0),
        WHITE.mix(0.85),
    )?;
    for label in labels {
        canvas.text(label)?;
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figure::draw::text::register_fonts;
    use crate::landscape::{article, Landscape};
    use crate::race::Race;

    #[test]
    fn labels_never_overlap_and_stay_in_their_cell() {
        register_fonts().unwrap();
        let mut runs = Race::article().run::<f64>(&article()).unwrap();
        // A long list of hyperparameters must wrap onto two lines, not run over.
        let mut long = runs[3].clone();
        long.name = "adamw_with_a_long_name".into();
        long.hyperparameters = (0..14)
            .map(|i| (format!("parameter{i}"), format!("0.{i}123")))
            .collect();
        long.diverged_at = Some(123_456);
        runs.push(long);
        let layout = crate::figure::layout::grid_layout(runs.len(), article().window()).unwrap();
        for (panel, run) in layout.panels.iter().zip(&runs) {
            let plan = plan_panel(panel, run).unwrap();
            let boxes: Vec<Bounds> = plan.labels.iter().map(|l| l.bounds().unwrap()).collect();
            let cell = panel.cell;
            let plot = (
                panel.plot.x as f64,
                panel.plot.y as f64,
                panel.plot.right() as f64,
                panel.plot.bottom() as f64,
            );
            for (i, (a, la)) in boxes.iter().zip(&plan.labels).enumerate() {
                assert!(
                    a.0 >= cell.x as f64
                        && a.2 <= cell.right() as f64
                        && a.1 >= cell.y as f64
                        && a.3 <= cell.bottom() as f64,
                    "{:?} leaves its cell",
                    la.text
                );
                assert!(!intersects(*a, plot), "{:?} covers the plot", la.text);
                for (b, lb) in boxes[i + 1..].iter().zip(&plan.labels[i + 1..]) {
                    assert!(!intersects(*a, *b), "{:?} overlaps {:?}", la.text, lb.text);
                }
            }
            assert_eq!(plan.x_ticks.len(), 5);
            assert_eq!(plan.y_ticks.len(), 5);
        }
        let long = plan_panel(&layout.panels[4], &runs[4]).unwrap();
        let parameter_lines = long
            .labels
            .iter()
            .filter(|l| l.text.contains("parameter"))
            .count();
        assert_eq!(parameter_lines, 2);
        assert!(long
            .labels
            .iter()
            .any(|l| l.text == "diverged at step 123456"));
    }
}
