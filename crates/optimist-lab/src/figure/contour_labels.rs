//! Labels on a few contour lines, in matplotlib's clabel style: the level's value in
//! small text on a gap in the line, so that high can be told from low.

use super::contours::ContourLine;
use super::draw::geometry::clip_polyline;
use super::draw::style::MUTED;
use super::draw::text::{text_width, Label, EM_PER_SIZE};
use super::error::FigureError;
use super::layout::{short_number, Panel};
use plotters::style::text_anchor::HPos;
use plotters::style::FontStyle;

/// Contour labels: every third level's value, in small text on a gap at the middle of
/// its longest stretch inside the window, so that high can be told from low. A label
/// that would overlap another, or sit on a stretch too short to carry it, is left out.
pub(super) fn contour_labels(
    contours: &[ContourLine],
    panel: &Panel,
) -> Result<Vec<Label>, FigureError> {
    let plot = panel.plot;
    let mut placed: Vec<Label> = Vec::new();
    let mut boxes: Vec<(f64, f64, f64, f64)> = Vec::new();
    for line in contours.iter().skip(1).step_by(3) {
        let mut best: Option<(f64, Vec<(f64, f64)>)> = None;
        for ring in &line.rings {
            for piece in clip_polyline(ring, &panel.window) {
                let pixels: Vec<(f64, f64)> =
                    piece.iter().map(|&(x, y)| panel.to_pixel(x, y)).collect();
                let length: f64 = pixels
                    .windows(2)
                    .map(|s| (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1))
                    .sum();
                if best.as_ref().is_none_or(|(l, _)| length > *l) {
                    best = Some((length, pixels));
                }
            }
        }
        let Some((length, pixels)) = best else {
            continue;
        };
        let text = short_number(line.value);
        let width = text_width(&text, CONTOUR_LABEL_SIZE, FontStyle::Normal)?;
        if length < 3.0 * width {
            continue;
        }
        // The point halfway along the stretch.
        let mut walked = 0.0;
        let mut at = pixels[0];
        for s in pixels.windows(2) {
            let d = (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1);
            if walked + d >= length / 2.0 {
                let t = if d > 0.0 {
                    (length / 2.0 - walked) / d
                } else {
                    0.0
                };
                at = (
                    s[0].0 + t * (s[1].0 - s[0].0),
                    s[0].1 + t * (s[1].1 - s[0].1),
                );
                break;
            }
            walked += d;
        }
        let em = CONTOUR_LABEL_SIZE * EM_PER_SIZE;
        let label = Label {
            text,
            x: at.0,
            baseline: at.1 + 0.36 * em,
            size: CONTOUR_LABEL_SIZE,
            style: FontStyle::Normal,
            // The lines' own colours are too pale to read as text.
            colour: MUTED,
            align: HPos::Center,
        };
        let b = label.bounds()?;
        let inside = b.0 - 2.0 >= plot.x as f64
            && b.2 + 2.0 <= plot.right() as f64
            && b.1 >= plot.y as f64
            && b.3 <= plot.bottom() as f64;
        let apart = boxes
            .iter()
            .all(|o| b.2 + 4.0 < o.0 || o.2 + 4.0 < b.0 || b.3 + 2.0 < o.1 || o.3 + 2.0 < b.1);
        if inside && apart {
            boxes.push(b);
            placed.push(label);
        }
    }
    Ok(placed)
}

/// The size of a contour label's text.
const CONTOUR_LABEL_SIZE: f64 = 10.5;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{builtin, Landscape};

    /// On the saddle, the labels tell high from low: each states the value of f on the
    /// line under its centre, and both negative and positive levels are labelled.
    #[test]
    fn contour_labels_state_the_level_under_them() {
        let saddle = builtin("saddle").unwrap();
        let window = saddle.window();
        let lines = crate::figure::contours::contour_lines(&saddle, window).unwrap();
        let layout = crate::figure::layout::grid_layout(1, window).unwrap();
        let panel = layout.panels[0];
        crate::figure::draw::text::register_fonts().unwrap();
        let labels = contour_labels(&lines, &panel).unwrap();
        assert!(labels.len() >= 3, "{} labels", labels.len());
        let em = CONTOUR_LABEL_SIZE * EM_PER_SIZE;
        let mut signs = (false, false);
        for label in &labels {
            let line = lines
                .iter()
                .find(|l| short_number(l.value) == label.text)
                .unwrap_or_else(|| panic!("{} is no level", label.text));
            let (x, y) = panel.to_data(label.x, label.baseline - 0.36 * em);
            // On the line, to the precision of the contour grid (161 samples a side).
            let tolerance = 0.05 * (line.value.abs() + 1.0);
            let f = saddle.value(x, y);
            assert!(
                (f - line.value).abs() < tolerance,
                "{}: f = {f}",
                label.text
            );
            let shown: f64 = label.text.replace('\u{2212}', "-").parse().unwrap();
            assert!((shown - line.value).abs() <= 0.01 * line.value.abs());
            signs = (signs.0 || shown < 0.0, signs.1 || shown > 0.0);
        }
        assert_eq!(signs, (true, true), "labels of both signs on the saddle");
    }
}
