//! Drawing the figure: a plan of every label (so nothing overlaps, which the tests
//! check), then shapes and text on a plotters backend.

use super::contours::ContourLine;
use super::layout::{nice_ticks, short_number, tick_label, Layout, Panel, Rect};
use super::{FigureError, DIVERGED_RGB, TRAJECTORY_RGB};
use crate::landscape::{Landscape, Window};
use crate::race::Run;
use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBAColor, RGBColor, ShapeStyle};
use std::io::Write as _;
use std::sync::OnceLock;

/// PNGs are drawn this many times larger, then averaged down (by [`downsample`]):
/// anti-aliasing.
pub(super) const SUPERSAMPLE: u32 = 2;

pub(super) const INK: RGBColor = RGBColor(34, 34, 34);
pub(super) const MUTED: RGBColor = RGBColor(95, 95, 95);
pub(super) const FRAME: RGBColor = RGBColor(70, 70, 70);
pub(super) const DIVERGED: RGBColor = RGBColor(DIVERGED_RGB[0], DIVERGED_RGB[1], DIVERGED_RGB[2]);
const TRAJECTORY: RGBColor = RGBColor(TRAJECTORY_RGB[0], TRAJECTORY_RGB[1], TRAJECTORY_RGB[2]);
pub(super) const WHITE: RGBColor = RGBColor(255, 255, 255);

/// Font sizes, in plotters' unit: the height from ascender to descender, in pixels.
const TITLE_SIZE: f64 = 20.0;
const STATUS_SIZES: [f64; 4] = [15.0, 14.0, 13.0, 12.0];
const PARAMETER_SIZES: [f64; 4] = [15.5, 14.5, 13.5, 12.5];
pub(super) const TICK_SIZE: f64 = 14.5;
const AXIS_SIZE: f64 = 18.0;
pub(super) const HEADER_SIZE: f64 = 17.0;
const NOTE_SIZE: f64 = 14.5;
/// DejaVu Sans: ascender + descender = 1.164 em; glyphs reach 0.76 em above the
/// baseline and 0.24 em below it.
pub(super) const EM_PER_SIZE: f64 = 1.0 / 1.164;
pub(super) const ASCENT: f64 = 0.76;
const DESCENT: f64 = 0.24;

/// Trajectory line width, step marker radius, start ring radius, end square half-side.
pub(super) const LINE_WIDTH: f64 = 2.0;
pub(super) const DOT_RADIUS: f64 = 3.0;
pub(super) const START_RADIUS: f64 = 8.5;
pub(super) const END_HALF: f64 = 5.5;
pub(super) const TICK_LENGTH: f64 = 5.0;

/// What is drawn.
pub(super) struct Scene<'a> {
    pub landscape: &'a dyn Landscape,
    pub runs: &'a [Run],
    pub layout: &'a Layout,
    pub contours: &'a [ContourLine],
}

/// Registers DejaVu Sans (regular, bold, oblique) as plotters' `sans-serif`, once.
pub(crate) fn register_fonts() -> Result<(), FigureError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let faces = [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
            (FontStyle::Italic, dejavu::sans::oblique()),
        ];
        for (style, bytes) in faces {
            plotters::style::register_font("sans-serif", style, bytes)
                .map_err(|_| format!("the {} face was rejected", style.as_str()))?;
        }
        Ok(())
    })
    .clone()
    .map_err(FigureError::Font)
}

fn draw_failed(e: impl std::fmt::Display) -> FigureError {
    FigureError::Draw(e.to_string())
}

/// The figure as PNG bytes: drawn band by band (header, then each row of panels) at
/// [`SUPERSAMPLE`] times the size, each band averaged down into the final image, so
/// memory stays bounded however many panels there are.
pub(super) fn png(scene: &Scene) -> Result<Vec<u8>, FigureError> {
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
    let fail = |e: png::EncodingError| FigureError::Encode(e.to_string());
    let io_fail = |e: std::io::Error| FigureError::Encode(e.to_string());
    let mut encoder = png::Encoder::new(&mut bytes, layout.width, layout.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Mostly flat colour: the fast compressor is ~10× quicker for a few % more bytes.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(fail)?;
    let mut stream = writer.stream_writer().map_err(fail)?;
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
                let mut canvas = Canvas {
                    db: &mut backend,
                    scale: s as f64,
                    origin_x: left as f64,
                    origin_y: top as f64,
                    vector: false,
                };
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
            .map_err(io_fail)?;
        stream.write_all(&rows).map_err(io_fail)?;
        written = bottom;
    }
    stream
        .write_all(&vec![255u8; h.saturating_sub(written) * w * 3])
        .map_err(io_fail)?;
    stream.finish().map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(bytes)
}

/// The contour lines of one plotting area, drawn at supersampled size on white.
fn contour_layer(scene: &Scene, plot: Rect) -> Result<Vec<u8>, FigureError> {
    let s = SUPERSAMPLE;
    let mut buffer = vec![255u8; (plot.width * s * plot.height * s * 3) as usize];
    {
        let mut backend =
            BitMapBackend::with_buffer(&mut buffer, (plot.width * s, plot.height * s));
        let mut canvas = Canvas {
            db: &mut backend,
            scale: s as f64,
            origin_x: 0.0,
            origin_y: 0.0,
            vector: false,
        };
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

/// Averages 2 × 2 blocks of the RGB `src` (`src_w` pixels wide) into `dst`, whose rows
/// start `dst_stride` bytes apart.
pub(crate) fn downsample(src: &[u8], src_w: usize, dst: &mut [u8], dst_stride: usize) {
    let w = src_w / 2;
    for (r, block) in src.chunks_exact(src_w * 6).enumerate() {
        let out_row = &mut dst[r * dst_stride..r * dst_stride + w * 3];
        let (upper, lower) = block.split_at(src_w * 3);
        let pairs = upper.chunks_exact(6).zip(lower.chunks_exact(6));
        for (out, (a, b)) in out_row.chunks_exact_mut(3).zip(pairs) {
            for c in 0..3 {
                let sum = a[c] as u16 + a[c + 3] as u16 + b[c] as u16 + b[c + 3] as u16;
                out[c] = ((sum + 2) / 4) as u8;
            }
        }
    }
}

/// The figure as SVG text.
pub(super) fn svg(scene: &Scene) -> Result<String, FigureError> {
    let layout = scene.layout;
    let mut text = String::new();
    {
        let mut backend = SVGBackend::with_string(&mut text, (layout.width, layout.height));
        let mut canvas = Canvas {
            db: &mut backend,
            scale: 1.0,
            origin_x: 0.0,
            origin_y: 0.0,
            vector: true,
        };
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

/// A line of text, placed by its baseline.
#[derive(Clone)]
pub(super) struct Label {
    pub text: String,
    /// Left end, centre or right end, as `align` says.
    pub x: f64,
    pub baseline: f64,
    pub size: f64,
    pub style: FontStyle,
    pub colour: RGBColor,
    pub align: HPos,
}

/// A box in figure pixels: left, top, right, bottom.
pub(super) type Bounds = (f64, f64, f64, f64);

impl Label {
    /// The box the glyphs may cover.
    pub fn bounds(&self) -> Result<Bounds, FigureError> {
        let w = text_width(&self.text, self.size, self.style)?;
        let left = match self.align {
            HPos::Left => self.x,
            HPos::Center => self.x - w / 2.0,
            HPos::Right => self.x - w,
        };
        let em = self.size * EM_PER_SIZE;
        Ok((
            left,
            self.baseline - ASCENT * em,
            left + w,
            self.baseline + DESCENT * em,
        ))
    }
}

/// Width of `text` in pixels, measured with the embedded font.
pub(super) fn text_width(text: &str, size: f64, style: FontStyle) -> Result<f64, FigureError> {
    // Measured 8× larger: plotters rounds widths to whole pixels.
    FontDesc::new(FontFamily::SansSerif, size * 8.0, style)
        .box_size(text)
        .map(|(w, _)| w as f64 / 8.0)
        .map_err(|e| FigureError::Font(e.to_string()))
}

/// `text` cut short with an ellipsis so that it fits in `width`.
pub(super) fn ellipsize(
    text: &str,
    size: f64,
    style: FontStyle,
    width: f64,
) -> Result<String, FigureError> {
    if text_width(text, size, style)? <= width {
        return Ok(text.to_string());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "…";
        if text_width(&candidate, size, style)? <= width {
            return Ok(candidate);
        }
    }
    Ok(String::new())
}

#[cfg(test)]
fn intersects(a: Bounds, b: Bounds) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Everything outside a panel's plotting area: titles, tick positions and labels.
#[derive(Clone)]
pub(super) struct PanelPlan {
    pub labels: Vec<Label>,
    /// Pixel columns of the x ticks.
    pub x_ticks: Vec<f64>,
    /// Pixel rows of the y ticks.
    pub y_ticks: Vec<f64>,
}

/// The panel's title: the optimizer's name, its status at the right, then its
/// hyperparameters on one or two lines, smaller if needed; its ticks, spaced so that
/// their labels never touch; its axis titles.
pub(super) fn plan_panel(panel: &Panel, run: &Run) -> Result<PanelPlan, FigureError> {
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
    let tick_em = TICK_SIZE * EM_PER_SIZE;
    let mut x_ticks = Vec::new();
    for max_count in (2..=(plot.width / 85).max(2) as usize).rev() {
        let (ticks, step) = nice_ticks(window.x_min, window.x_max, max_count);
        let candidate: Vec<Label> = ticks
            .iter()
            .map(|&t| Label {
                text: tick_label(t, step),
                x: panel.to_pixel(t, window.y_min).0,
                baseline: bottom + TICK_LENGTH + 4.0 + ASCENT * tick_em,
                size: TICK_SIZE,
                style: FontStyle::Normal,
                colour: INK,
                align: HPos::Center,
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
    // y ticks: at least two label heights apart.
    let (ticks, step) = nice_ticks(
        window.y_min,
        window.y_max,
        (plot.height / 85).max(2) as usize,
    );
    let y_ticks: Vec<f64> = ticks
        .iter()
        .map(|&t| panel.to_pixel(window.x_min, t).1)
        .collect();
    let mut label_left = left - TICK_LENGTH - 4.0;
    for (&t, &py) in ticks.iter().zip(&y_ticks) {
        let label = Label {
            text: tick_label(t, step),
            x: left - TICK_LENGTH - 4.0,
            // Centres the digits (0.73 em tall) on the tick.
            baseline: py + 0.365 * tick_em,
            size: TICK_SIZE,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Right,
        };
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

/// Where a backend draws, at what scale, from which figure row.
pub(super) struct Canvas<'b, DB: DrawingBackend> {
    pub db: &'b mut DB,
    /// Backend pixels per figure pixel.
    pub scale: f64,
    /// The figure column at the backend's left edge (a PNG's panels are drawn one by one).
    pub origin_x: f64,
    /// The figure row at the backend's top edge (bands of a PNG start lower down).
    pub origin_y: f64,
    /// SVG: paths stay paths; bitmaps draw thick lines segment by segment.
    pub vector: bool,
}

fn style(colour: RGBAColor, width: f64, filled: bool) -> ShapeStyle {
    ShapeStyle {
        color: colour,
        filled,
        stroke_width: width.round().max(1.0) as u32,
    }
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    /// The backend pixel holding figure point (x, y).
    fn at(&self, x: f64, y: f64) -> (i32, i32) {
        (
            ((x - self.origin_x) * self.scale).floor() as i32,
            ((y - self.origin_y) * self.scale).floor() as i32,
        )
    }

    pub(super) fn fill_rect(
        &mut self,
        (l, t, r, b): Bounds,
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let (ul, br) = (self.at(l, t), self.at(r, b));
        self.db
            .draw_rect(ul, br, &style(colour, 1.0, true), true)
            .map_err(draw_failed)
    }

    pub(super) fn polyline(
        &mut self,
        points: &[(f64, f64)],
        colour: RGBAColor,
        width: f64,
    ) -> Result<(), FigureError> {
        let width = width * self.scale;
        let pts: Vec<(i32, i32)> = points.iter().map(|&(x, y)| self.at(x, y)).collect();
        if self.vector || width <= 1.0 {
            return self
                .db
                .draw_path(pts, &style(colour, width, false))
                .map_err(draw_failed);
        }
        // plotters fills a thick path as one polygon, which leaves holes where a zigzag
        // crosses itself: draw each segment, with round joints where they would show.
        for pair in pts.windows(2) {
            self.db
                .draw_line(pair[0], pair[1], &style(colour, width, false))
                .map_err(draw_failed)?;
        }
        if width > 2.0 {
            let joint = (width / 2.0).round() as u32;
            for &p in &pts {
                self.db
                    .draw_circle(p, joint, &style(colour, 1.0, true), true)
                    .map_err(draw_failed)?;
            }
        }
        Ok(())
    }

    pub(super) fn disc(
        &mut self,
        (x, y): (f64, f64),
        radius: f64,
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let r = (radius * self.scale).round() as u32;
        let c = self.at(x, y);
        self.db
            .draw_circle(c, r, &style(colour, 1.0, true), true)
            .map_err(draw_failed)
    }

    pub(super) fn ring(
        &mut self,
        (x, y): (f64, f64),
        radius: f64,
        width: f64,
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let r = (radius * self.scale).round() as u32;
        let c = self.at(x, y);
        self.db
            .draw_circle(c, r, &style(colour, width * self.scale, false), false)
            .map_err(draw_failed)
    }

    pub(super) fn text(&mut self, label: &Label) -> Result<(), FigureError> {
        // Bitmaps put the baseline half a size below the anchor, SVG 0.76 em below it.
        let drop = if self.vector {
            0.76 * label.size / 1.24
        } else {
            0.5 * label.size
        };
        let font = FontDesc::new(FontFamily::SansSerif, label.size * self.scale, label.style);
        let text_style = font
            .color(&label.colour)
            .pos(Pos::new(label.align, VPos::Top));
        let at = self.at(label.x, label.baseline - drop);
        self.db
            .draw_text(&label.text, &text_style, at)
            .map_err(draw_failed)
    }
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

/// The header line: `title` in bold, then `subtitle` muted as far as there is room.
pub(super) fn draw_title<DB: DrawingBackend>(
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
pub(super) fn plus<DB: DrawingBackend>(
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

/// A muted colour for the contour line of rank `t` (0 lowest, 1 highest): viridis from
/// purple through blue to green, washed towards white so that the trajectory stands out.
pub(super) fn contour_colour(t: f64) -> RGBAColor {
    // Viridis at 0, 0.25, 0.5, 0.75.
    const STOPS: [[f64; 3]; 4] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |c: usize| {
        let v = STOPS[i][c] * (1.0 - f) + STOPS[i + 1][c] * f;
        (v * 0.55 + 255.0 * 0.45).round() as u8
    };
    RGBAColor(mix(0), mix(1), mix(2), 1.0)
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

/// Drops points closer than `min_gap` pixels to the last kept one (the last point is
/// always kept), so that long or dense runs cost what their drawing covers.
pub(super) fn thin(points: impl Iterator<Item = (f64, f64)>, min_gap: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut pending = None;
    for p in points {
        match out.last() {
            Some(&q) if (p.0 - q.0).hypot(p.1 - q.1) < min_gap => pending = Some(p),
            _ => {
                out.push(p);
                pending = None;
            }
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// The parts of the polyline inside `w`: Liang–Barsky clipping of each segment,
/// consecutive visible segments joined.
pub(super) fn clip_polyline(points: &[(f64, f64)], w: &Window) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    if points.len() == 1 && w.contains(points[0].0, points[0].1) {
        return vec![points.to_vec()];
    }
    for pair in points.windows(2) {
        match clip_segment(pair[0], pair[1], w) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() > 1 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(a);
                }
                current.push(b);
            }
            None => {
                if current.len() > 1 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

/// Cohen–Sutherland clipping of segment a–b to `w`: an end outside is moved onto the
/// edge it crosses, exactly, until both are in. Unlike a parametric clip this stays
/// exact for ends like 1e150, where the part inside is 1e-149 of the segment.
fn clip_segment(a: (f64, f64), b: (f64, f64), w: &Window) -> Option<Segment> {
    // Later differences are smaller than this one, so finite too.
    if !((b.0 - a.0).is_finite() && (b.1 - a.1).is_finite()) {
        return None;
    }
    let code = |p: (f64, f64)| {
        let x = if p.0 < w.x_min {
            1
        } else if p.0 > w.x_max {
            2
        } else {
            0
        };
        let y = if p.1 < w.y_min {
            4
        } else if p.1 > w.y_max {
            8
        } else {
            0
        };
        x | y
    };
    let (mut p, mut q) = (a, b);
    let (mut cp, mut cq) = (code(p), code(q));
    // Each end is moved at most twice (once more if rounding lands it just outside).
    for _ in 0..8 {
        if cp & cq != 0 {
            return None;
        }
        if cp | cq == 0 {
            // Touching a corner or an edge from outside is no line at all.
            return (p != q || a == b).then_some((p, q));
        }
        let (out, from, to) = if cp != 0 { (cp, p, q) } else { (cq, q, p) };
        let along_x = |x: f64| {
            (
                x,
                from.1 + (to.1 - from.1) * ((x - from.0) / (to.0 - from.0)),
            )
        };
        let along_y = |y: f64| {
            (
                from.0 + (to.0 - from.0) * ((y - from.1) / (to.1 - from.1)),
                y,
            )
        };
        let moved = match out {
            o if o & 8 != 0 => along_y(w.y_max),
            o if o & 4 != 0 => along_y(w.y_min),
            o if o & 2 != 0 => along_x(w.x_max),
            _ => along_x(w.x_min),
        };
        if cp != 0 {
            p = moved;
            cp = code(p);
        } else {
            q = moved;
            cq = code(q);
        }
    }
    None
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
            plus(canvas, panel.to_pixel(x, y))?;
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
        canvas.ring(c, START_RADIUS, 2.0, INK.to_rgba())?;
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

    // Whatever reached past the plotting area (markers, line ends) is covered.
    let (l, t, r, b) = (
        plot.x as f64,
        plot.y as f64,
        plot.right() as f64,
        plot.bottom() as f64,
    );
    super::plot::cover_outside(canvas, plot, cell)?;
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

/// A piece of trajectory in figure pixels (both ends equal for a lone point).
type Segment = ((f64, f64), (f64, f64));

/// "start" left of, right of, above or below the start marker `c`, in that preference.
fn start_candidates(c: (f64, f64)) -> Vec<Vec<Label>> {
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
fn corner_candidates(lines: &[String], inner: Bounds) -> Vec<Vec<Label>> {
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
fn place(
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
fn draw_labels<DB: DrawingBackend>(
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
    use crate::landscape::article;
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
        let layout = super::super::grid_layout(runs.len(), article().window()).unwrap();
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

    #[test]
    fn clipping_keeps_the_inside_parts() {
        let w = article().window();
        // In, out through the right edge, back in through the top.
        let pieces = clip_polyline(&[(0.0, 0.0), (20.0, 0.0), (0.0, 20.0), (0.0, 5.0)], &w);
        assert_eq!(
            pieces,
            vec![vec![(0.0, 0.0), (10.0, 0.0)], vec![(0.0, 10.0), (0.0, 5.0)]]
        );
        assert!(clip_polyline(&[(11.0, 0.0), (12.0, 5.0)], &w).is_empty());
        assert!(clip_polyline(&[(1e300, 0.0), (-1e300, f64::MAX)], &w).is_empty());
        // Across the window between huge ends: the clipped ends sit exactly on the edges.
        let across = clip_polyline(&[(0.5, 1e150), (-0.5, -1e150)], &w);
        assert_eq!(across.len(), 1);
        let (top, bottom) = (across[0][0], across[0][1]);
        assert_eq!((top.1, bottom.1), (10.0, -10.0));
        assert!(top.0.abs() <= 0.5 && bottom.0.abs() <= 0.5);
        assert_eq!(clip_polyline(&[(1.0, 1.0)], &w), vec![vec![(1.0, 1.0)]]);
    }

    #[test]
    fn thinning_keeps_the_ends() {
        let pts = [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (5.0, 0.0), (5.1, 0.0)];
        assert_eq!(
            thin(pts.into_iter(), 1.0),
            vec![(0.0, 0.0), (5.0, 0.0), (5.1, 0.0)]
        );
    }
}
