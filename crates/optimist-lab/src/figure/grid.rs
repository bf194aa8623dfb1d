//! The article's figure: one panel per run, two columns, each with the landscape's
//! contour lines, the run's trajectory (start, every step, end), the minima, and a title
//! naming the optimizer and its hyperparameters.

use super::contours::{contour_lines, ContourLine};
use super::draw::canvas::{draw_failed, Canvas};
use super::draw::geometry::{clip_polyline, thin, Segment};
use super::draw::raster::{downsample, encode_failed, png_writer};
use super::draw::style::{
    DOT_RADIUS, END_HALF, FRAME, HEADER_SIZE, INK, LINE_WIDTH, START_RADIUS, SUPERSAMPLE,
    TICK_LENGTH, TRAJECTORY, WHITE,
};
use super::draw::text::{register_fonts, text_width, Bounds, Label, EM_PER_SIZE};
use super::error::FigureError;
use super::format::Format;
use super::labels::{corner_candidates, draw_labels, place, plan_panel, start_candidates};
use super::layout::{grid_layout, short_number, Layout, Panel, Rect};
use super::parts::{cover_outside, draw_contours, draw_title, exit_arrows, plus, plus_layers};
use crate::landscape::Landscape;
use crate::race::Run;
use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, FontStyle};
use std::io::Write as _;

/// The figure of `runs` on `landscape`, encoded as `format`: one panel per run (one
/// column for a single run, else two), laid out as [`grid_layout`] says.
pub fn grid(
    landscape: &dyn Landscape,
    runs: &[Run],
    format: Format,
) -> Result<Vec<u8>, FigureError> {
    let layout = grid_layout(runs.len(), landscape.window())?;
    register_fonts()?;
    let contours = contour_lines(landscape, landscape.window())?;
    let scene = Scene {
        landscape,
        runs,
        layout: &layout,
        contours: &contours,
    };
    match format {
        Format::Png => png(&scene),
        Format::Svg => svg(&scene).map(String::into_bytes),
    }
}

/// What is drawn.
pub(crate) struct Scene<'a> {
    pub landscape: &'a dyn Landscape,
    pub runs: &'a [Run],
    pub layout: &'a Layout,
    pub contours: &'a [ContourLine],
}

/// The figure as PNG bytes: drawn band by band (header, then each row of panels) at
/// [`SUPERSAMPLE`] times the size, each band averaged down into the final image, so
/// memory stays bounded however many panels there are.
pub(crate) fn png(scene: &Scene) -> Result<Vec<u8>, FigureError> {
    let layout = scene.layout;
    let s = SUPERSAMPLE as usize;
    let (w, h) = (layout.width as usize, layout.height as usize);
    let plot = layout.panels[0].plot;
    let contour_layer = contour_layer(scene, plot)?;

    let mut bands: Vec<(usize, usize, Vec<usize>)> =
        vec![(0, layout.header.bottom() as usize, vec![])];
    for (row, chunk) in (0..layout.panels.len())
        .collect::<Vec<_>>()
        .chunks(layout.columns)
        .enumerate()
    {
        let cell = layout.panels[chunk[0]].cell;
        let last_row = row == layout.panels.len().div_ceil(layout.columns) - 1;
        let bottom = if last_row { h } else { cell.bottom() as usize };
        bands.push((cell.y as usize, bottom, chunk.to_vec()));
    }

    // Each band's rows go straight to the encoder: the whole image is never held.
    let mut bytes = Vec::new();
    let mut writer = png_writer(&mut bytes, layout.width, layout.height)?;
    let mut stream = writer.stream_writer().map_err(encode_failed)?;
    let mut written = 0;
    for (top, bottom, panels) in bands {
        let mut rows = vec![255u8; (bottom - top) * w * 3];
        // The header spans the width; each panel is drawn alone into its cell, so only
        // one cell is ever held at supersampled size.
        let areas: Vec<(usize, usize, Option<usize>)> = if panels.is_empty() {
            vec![(0, w, None)]
        } else {
            panels
                .iter()
                .map(|&i| {
                    let c = layout.panels[i].cell;
                    (c.x as usize, c.x as usize + c.width as usize, Some(i))
                })
                .collect()
        };
        for (left, right, panel) in areas {
            let (bw, bh) = ((right - left) * s, (bottom - top) * s);
            let mut buffer = vec![255u8; bw * bh * 3];
            if let Some(i) = panel {
                // The contour lines are the same in every panel: drawn once, copied.
                let p = layout.panels[i].plot;
                let row_len = p.width as usize * s * 3;
                for r in 0..p.height as usize * s {
                    let y = (p.y as usize - top) * s + r;
                    let dst = (y * bw + (p.x as usize - left) * s) * 3;
                    buffer[dst..dst + row_len]
                        .copy_from_slice(&contour_layer[r * row_len..(r + 1) * row_len]);
                }
            }
            {
                let mut backend = BitMapBackend::with_buffer(&mut buffer, (bw as u32, bh as u32));
                let mut canvas = Canvas::bitmap(&mut backend, s as f64, (left as f64, top as f64));
                match panel {
                    None => draw_header(&mut canvas, scene)?,
                    Some(i) => draw_panel(&mut canvas, scene, i, false)?,
                }
                backend.present().map_err(draw_failed)?;
            }
            downsample(&buffer, bw, &mut rows[left * 3..], w * 3);
        }
        // Rows no band covers stay white.
        stream
            .write_all(&vec![255u8; top.saturating_sub(written) * w * 3])
            .map_err(encode_failed)?;
        stream.write_all(&rows).map_err(encode_failed)?;
        written = bottom;
    }
    stream
        .write_all(&vec![255u8; h.saturating_sub(written) * w * 3])
        .map_err(encode_failed)?;
    stream.finish().map_err(encode_failed)?;
    writer.finish().map_err(encode_failed)?;
    Ok(bytes)
}

/// The contour lines of one plotting area, drawn at supersampled size on white.
fn contour_layer(scene: &Scene, plot: Rect) -> Result<Vec<u8>, FigureError> {
    let s = SUPERSAMPLE;
    let mut buffer = vec![255u8; (plot.width * s * plot.height * s * 3) as usize];
    {
        let mut backend =
            BitMapBackend::with_buffer(&mut buffer, (plot.width * s, plot.height * s));
        let mut canvas = Canvas::bitmap(&mut backend, s as f64, (0.0, 0.0));
        let panel = Panel {
            cell: plot,
            plot: Rect { x: 0, y: 0, ..plot },
            window: scene.layout.panels[0].window,
        };
        draw_contours(&mut canvas, scene.contours, &panel)?;
        backend.present().map_err(draw_failed)?;
    }
    Ok(buffer)
}

/// The figure as SVG text.
pub(crate) fn svg(scene: &Scene) -> Result<String, FigureError> {
    let layout = scene.layout;
    let mut text = String::new();
    {
        let mut backend = SVGBackend::with_string(&mut text, (layout.width, layout.height));
        let mut canvas = Canvas::svg(&mut backend);
        canvas.fill_rect(
            (0.0, 0.0, layout.width as f64, layout.height as f64),
            WHITE.to_rgba(),
        )?;
        draw_header(&mut canvas, scene)?;
        for i in 0..layout.panels.len() {
            draw_panel(&mut canvas, scene, i, true)?;
        }
        backend.present().map_err(draw_failed)?;
    }
    Ok(text)
}

fn draw_header<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    scene: &Scene,
) -> Result<(), FigureError> {
    let layout = scene.layout;
    let first = layout.panels[0];
    let baseline = 28.0;
    let left = first.plot.x as f64;
    let right = layout.panels[layout.columns - 1].plot.right() as f64;
    // The key, right-aligned: ○ start, ● step, ■ end, + minimum.
    let items: [(&str, u8); 4] = [("start", 0), ("step", 1), ("end", 2), ("minimum", 3)];
    let mut widths = Vec::new();
    for (text, _) in items {
        widths.push(text_width(text, HEADER_SIZE - 2.0, FontStyle::Normal)?);
    }
    let symbol = 22.0;
    let gap = 16.0;
    let key_width: f64 = widths.iter().map(|w| symbol + w).sum::<f64>() + gap * 3.0;
    let mut x = right - key_width;
    let mid = baseline - 0.3 * HEADER_SIZE * EM_PER_SIZE;
    for ((text, kind), w) in items.iter().zip(&widths) {
        let c = (x + 8.0, mid);
        match kind {
            0 => canvas.ring(c, START_RADIUS - 2.0, 2.0, INK.to_rgba())?,
            1 => {
                canvas.polyline(
                    &[(c.0 - 8.0, c.1), (c.0 + 8.0, c.1)],
                    TRAJECTORY.to_rgba(),
                    LINE_WIDTH,
                )?;
                canvas.disc(c, DOT_RADIUS, TRAJECTORY.to_rgba())?;
            }
            2 => canvas.fill_rect(
                (
                    c.0 - END_HALF,
                    c.1 - END_HALF,
                    c.0 + END_HALF,
                    c.1 + END_HALF,
                ),
                TRAJECTORY.to_rgba(),
            )?,
            _ => plus(canvas, c)?,
        }
        canvas.text(&Label {
            text: text.to_string(),
            x: x + symbol,
            baseline,
            size: HEADER_SIZE - 2.0,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Left,
        })?;
        x += symbol + w + gap;
    }
    // The landscape, then the common start if there is one, as far as there is room.
    let formula = format!("f(x, y) = {}", scene.landscape.formula());
    let starts: Vec<(f64, f64)> = scene
        .runs
        .iter()
        .filter_map(|r| r.points.first().map(|p| (p.x, p.y)))
        .collect();
    let from = match starts.first() {
        Some(&(x0, y0)) if starts.iter().all(|&s| s == (x0, y0)) => {
            format!("from ({}, {})", short_number(x0), short_number(y0))
        }
        _ => String::new(),
    };
    draw_title(canvas, &formula, &from, left, right - key_width - 24.0)
}

fn draw_panel<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    scene: &Scene,
    index: usize,
    with_contours: bool,
) -> Result<(), FigureError> {
    let panel = scene.layout.panels[index];
    let run = &scene.runs[index];
    let plan = plan_panel(&panel, run)?;
    let (plot, cell) = (panel.plot, panel.cell);
    let window = panel.window;
    if with_contours {
        draw_contours(canvas, scene.contours, &panel)?;
    }
    for (x, y) in scene.landscape.minima() {
        if window.contains(x, y) {
            plus_layers(canvas, panel.to_pixel(x, y), true, false)?;
        }
    }

    let path: Vec<(f64, f64)> = run.points.iter().map(|p| (p.x, p.y)).collect();
    let pieces: Vec<Vec<(f64, f64)>> = clip_polyline(&path, &window)
        .iter()
        .map(|piece| thin(piece.iter().map(|&(x, y)| panel.to_pixel(x, y)), 0.5))
        .collect();
    let segments: Vec<Segment> = pieces
        .iter()
        .flat_map(|piece| {
            piece
                .windows(2)
                .map(|s| (s[0], s[1]))
                .chain((piece.len() == 1).then(|| (piece[0], piece[0])))
        })
        .collect();
    let inner = (
        plot.x as f64 + 6.0,
        plot.y as f64 + 6.0,
        plot.right() as f64 - 6.0,
        plot.bottom() as f64 - 6.0,
    );

    // Labels go under the trajectory: when one cannot avoid it, the path stays whole.
    let mut placed: Vec<Bounds> = Vec::new();
    if let Some(&(x, y)) = path.first().filter(|&&(x, y)| window.contains(x, y)) {
        let c = panel.to_pixel(x, y);
        let label = place(start_candidates(c), &segments, inner, &placed)?;
        placed.push(draw_labels(canvas, &label)?);
    }
    if let Some(&(x, y)) = path.last().filter(|&&(x, y)| !window.contains(x, y)) {
        let lines = [
            "end outside the window:".to_string(),
            format!("({}, {})", short_number(x), short_number(y)),
        ];
        let note = place(corner_candidates(&lines, inner), &segments, inner, &placed)?;
        placed.push(draw_labels(canvas, &note)?);
    }

    // Identical segments (a diverging run bouncing across the window) are drawn once.
    let mut drawn = std::collections::HashSet::new();
    for piece in &pieces {
        if piece.len() == 2 {
            let (a, b) = (
                canvas.at(piece[0].0, piece[0].1),
                canvas.at(piece[1].0, piece[1].1),
            );
            if !drawn.insert(if a <= b { (a, b) } else { (b, a) }) {
                continue;
            }
        }
        canvas.polyline(piece, TRAJECTORY.to_rgba(), LINE_WIDTH)?;
    }
    // A marker per step inside the window, skipping those that would land on the last.
    let inside = path.iter().filter(|&&(x, y)| window.contains(x, y));
    for c in thin(inside.map(|&(x, y)| panel.to_pixel(x, y)), 1.5) {
        canvas.disc(c, DOT_RADIUS, TRAJECTORY.to_rgba())?;
    }
    if let Some(&(x, y)) = path.last().filter(|&&(x, y)| window.contains(x, y)) {
        let c = panel.to_pixel(x, y);
        let square = (
            c.0 - END_HALF,
            c.1 - END_HALF,
            c.0 + END_HALF,
            c.1 + END_HALF,
        );
        canvas.fill_rect(square, TRAJECTORY.to_rgba())?;
    }
    // Where the run left the window, an arrow on the edge pointing the way it went.
    exit_arrows(canvas, &panel, &path, TRAJECTORY.to_rgba())?;
    // The minima's + over the trajectory and its end (their halo went under it).
    for (x, y) in scene.landscape.minima() {
        if window.contains(x, y) {
            plus_layers(canvas, panel.to_pixel(x, y), false, true)?;
        }
    }

    // Whatever reached past the plotting area (markers, line ends) is covered.
    let (l, t, r, b) = plot.edges();
    cover_outside(canvas, plot, cell)?;
    // The start ring after the cover, so that one on the window's edge shows whole.
    if let Some(&(x, y)) = path.first().filter(|&&(x, y)| window.contains(x, y)) {
        canvas.ring(panel.to_pixel(x, y), START_RADIUS, 2.0, INK.to_rgba())?;
    }
    // The frame and outward ticks.
    let frame = [
        (l, t),
        (r - 0.5, t),
        (r - 0.5, b - 0.5),
        (l, b - 0.5),
        (l, t),
    ];
    canvas.polyline(&frame, FRAME.to_rgba(), 1.0)?;
    for &x in &plan.x_ticks {
        let x = x.min(r - 0.5);
        canvas.polyline(&[(x, b), (x, b + TICK_LENGTH)], FRAME.to_rgba(), 1.0)?;
    }
    for &y in &plan.y_ticks {
        let y = y.min(b - 0.5);
        canvas.polyline(&[(l - TICK_LENGTH, y), (l, y)], FRAME.to_rgba(), 1.0)?;
    }
    for label in &plan.labels {
        canvas.text(label)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_runs_is_an_error() {
        let e = grid(&crate::landscape::article(), &[], Format::Png).unwrap_err();
        assert_eq!(e, FigureError::NoRuns);
    }
}
