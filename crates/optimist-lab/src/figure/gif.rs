//! The race as an animated GIF: every optimizer moving at once over one contour plot,
//! each trail in its own colour with a legend, like the animations of Ruder's overview
//! of gradient descent.
//!
//! The background (contour lines, axes, legend) is drawn once, anti-aliased, and mapped
//! to a 255-colour palette. Each frame then adds the new stretch of every trail and moves
//! the heads, in palette indices, and stores only the pixels that changed since the
//! previous frame: frames are cheap to make and to store.

use super::contours::contour_lines;
use super::draw::geometry::clip_polyline;
use super::draw::raster::{intersection, mix, Coverage, Image};
use super::draw::style::{self, colour_of, contour_colour, rgb, series_rgb, DIVERGED_RGB};
use super::draw::text::{draw_on_rgb, ellipsize, register_fonts, text_width, Label};
use super::error::FigureError;
use super::layout::{grid_layout, nice_ticks, short_number, tick_label, Panel, Rect};
use super::palette::{Encoder, Palette};
use crate::landscape::{Landscape, Window};
use crate::race::Run;
use plotters::style::text_anchor::HPos;
use plotters::style::FontStyle;

/// The most frames an animation has: longer races show evenly spaced steps.
pub const MAX_FRAMES: usize = 150;

/// How long the first frame shows, in hundredths of a second.
pub const FIRST_DELAY: u16 = 60;
/// How long the last frame holds before the animation starts again.
pub const LAST_DELAY: u16 = 300;

/// The grid figure's text and frame colours, so that both figures read alike.
const WHITE: [u8; 3] = rgb(style::WHITE);
const INK: [u8; 3] = rgb(style::INK);
const MUTED: [u8; 3] = rgb(style::MUTED);
const FRAME: [u8; 3] = rgb(style::FRAME);

/// Space around the animation's edges.
const OUTER: u32 = 10;
/// The band above the plot with the function's formula.
const HEADER: u32 = 40;
/// Room left of the plot for tick labels and the y axis title.
const LEFT: u32 = 62;
/// Room below the plot for tick labels and the x axis title.
const BOTTOM: u32 = 50;
/// Between the plot and the legend.
const GAP: u32 = 26;
/// The legend's width.
const LEGEND_WIDTH: u32 = 230;
/// The legend's first line: the step shown.
const STEP_LINE: u32 = 30;
/// One legend entry: the spec, then the loss or status.
const ENTRY: u32 = 42;
/// The plot's longest side (shorter than the grid figure's: one plot, moving).
const PLOT_SIDE: f64 = 440.0;

const TRAIL_WIDTH: f64 = 2.5;
const HEAD_RADIUS: f64 = 5.5;
const START_RADIUS: f64 = 8.0;

/// Where an animation puts things.
#[derive(Debug, Clone, PartialEq)]
pub struct AnimationLayout {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The plot: its plotting area shows the landscape's window (its cell is the plot
    /// with its ticks and axis titles).
    pub panel: Panel,
    /// The legend right of the plot: the step shown, then one entry per run.
    pub legend: Rect,
}

impl AnimationLayout {
    /// The box of run `index`'s legend entry.
    pub fn entry(&self, index: usize) -> Rect {
        Rect {
            x: self.legend.x,
            y: self.legend.y + (STEP_LINE + index as u32 * ENTRY) as i32,
            width: self.legend.width,
            height: ENTRY,
        }
    }
}

/// The geometry of an animation of `runs` runs over `window`: the plot keeps the
/// window's aspect ratio as the grid figure's panels do, the legend grows with the runs.
pub fn animation_layout(window: Window, runs: usize) -> Result<AnimationLayout, FigureError> {
    // The grid's layout checks the window and clamps its aspect ratio.
    let grid = grid_layout(runs, window)?.panels[0].plot;
    let scale = PLOT_SIDE / grid.width.max(grid.height) as f64;
    let (plot_w, plot_h) = (
        (grid.width as f64 * scale).round() as u32,
        (grid.height as f64 * scale).round() as u32,
    );
    let plot = Rect {
        x: (OUTER + LEFT) as i32,
        y: HEADER as i32,
        width: plot_w,
        height: plot_h,
    };
    let legend = Rect {
        x: plot.right() + GAP as i32,
        y: plot.y,
        width: LEGEND_WIDTH,
        height: STEP_LINE + runs as u32 * ENTRY,
    };
    let width = legend.right() as u32 + OUTER;
    let height = HEADER + (plot_h + BOTTOM).max(legend.height) + OUTER;
    let cell = Rect {
        x: OUTER as i32,
        y: plot.y,
        width: LEFT + plot_w,
        height: plot_h + BOTTOM,
    };
    Ok(AnimationLayout {
        width,
        height,
        panel: Panel { cell, plot, window },
        legend,
    })
}

/// The step each frame shows, for a race whose last step is `last_step`: every step
/// when there are at most [`MAX_FRAMES`], else that many spread evenly, first and last
/// included.
pub fn frame_steps(last_step: usize) -> Vec<usize> {
    spread_steps(last_step, MAX_FRAMES)
}

/// Steps 0 to `last_step`: all of them if there are at most `count`, else `count` of
/// them spread evenly, first and last included.
pub(super) fn spread_steps(last_step: usize, count: usize) -> Vec<usize> {
    let n = last_step.saturating_add(1).min(count.max(2));
    if n == 1 {
        return vec![0];
    }
    let (span, d) = (last_step as u128, (n - 1) as u128);
    (0..n as u128)
        .map(|i| ((i * span + d / 2) / d) as usize)
        .collect()
}

/// How long each frame between the first and the last shows, in hundredths of a second:
/// about six seconds in all, never faster than browsers play.
pub fn frame_delay(frames: usize) -> u16 {
    (600 / frames.max(1)).clamp(4, 15) as u16
}

/// The animation of `runs` on `landscape`, as GIF bytes: one frame per step (at most
/// [`MAX_FRAMES`], evenly spread), each showing every trail up to that step, the
/// optimizers' current positions and their losses; the last frame holds for
/// [`LAST_DELAY`], then it loops.
pub fn animation(landscape: &dyn Landscape, runs: &[Run]) -> Result<Vec<u8>, FigureError> {
    let layout = animation_layout(landscape.window(), runs.len())?;
    register_fonts()?;
    let last_step = runs.iter().map(end_step).max().unwrap_or(0);
    let steps = frame_steps(last_step);
    let base = background(landscape, runs, &layout)?;
    let mut palette = Palette::new(runs, &base);
    let base_index = palette.map_exact(&base.rgb);

    let (w, h) = (layout.width as usize, layout.height as usize);
    let plot = layout.panel.plot;
    let mut trails: Vec<Coverage> = runs.iter().map(|_| Coverage::new(plot)).collect();
    let mut drawn = vec![Progress::default(); runs.len()];
    let mut canvas = base_index.clone();
    let mut previous: Option<Vec<u8>> = None;
    let mut encoder = Encoder::new(layout.width, layout.height, &palette)?;

    for (k, &step) in steps.iter().enumerate() {
        // New stretches of trail go into each run's coverage, then onto the canvas.
        let mut dirty: Vec<Rect> = Vec::new();
        for ((run, trail), progress) in runs.iter().zip(&mut trails).zip(&mut drawn) {
            extend_trail(run, step, &layout.panel, trail, progress, &mut dirty);
        }
        for rect in &dirty {
            composite(rect, &base, &base_index, &trails, &mut canvas, &mut palette);
        }
        let mut frame = canvas.clone();
        for (i, run) in runs.iter().enumerate() {
            draw_head(run, i, step, &layout.panel, &mut frame, w, &mut palette);
        }
        draw_status(runs, step, last_step, &layout, &mut frame, &mut palette)?;

        let delay = match k {
            0 => FIRST_DELAY,
            _ if k + 1 == steps.len() => LAST_DELAY,
            _ => frame_delay(steps.len()),
        };
        encoder.frame(&frame, previous.as_deref(), w, h, delay)?;
        previous = Some(frame);
    }
    encoder.finish()
}

/// The step at which a run stops: its last position's, or the one it diverged at.
fn end_step(run: &Run) -> usize {
    match (run.diverged_at, run.points.last()) {
        (Some(k), _) => k,
        (None, Some(p)) => p.step,
        (None, None) => 0,
    }
}

/// How far a run's trail has been drawn.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Points handed to the trail so far.
    points: usize,
    /// The last point drawn to, in data coordinates.
    last: Option<(f64, f64)>,
}

/// Adds `run`'s trail up to `step` to its coverage; the boxes it touched go to `dirty`.
/// Points closer than half a pixel to the last one drawn are skipped (the last point up
/// to `step` never is), so long runs cost what their drawing covers.
fn extend_trail(
    run: &Run,
    step: usize,
    panel: &Panel,
    trail: &mut Coverage,
    progress: &mut Progress,
    dirty: &mut Vec<Rect>,
) {
    let w = panel.window;
    let sx = panel.plot.width as f64 / (w.x_max - w.x_min);
    let sy = panel.plot.height as f64 / (w.y_max - w.y_min);
    let upto = run.points.partition_point(|p| p.step <= step);
    for k in progress.points..upto {
        let p = run.points[k];
        let Some(last) = progress.last else {
            progress.last = Some((p.x, p.y));
            continue;
        };
        let near = ((p.x - last.0) * sx).hypot((p.y - last.1) * sy) < 0.5;
        if near && k + 1 < upto {
            continue;
        }
        for piece in clip_polyline(&[last, (p.x, p.y)], &w) {
            let a = panel.to_pixel(piece[0].0, piece[0].1);
            let b = panel.to_pixel(piece[piece.len() - 1].0, piece[piece.len() - 1].1);
            dirty.extend(trail.segment(a, b, TRAIL_WIDTH));
        }
        progress.last = Some((p.x, p.y));
    }
    progress.points = progress.points.max(upto);
}

/// Redraws `rect` of the canvas: the background, then every trail over it in run order.
fn composite(
    rect: &Rect,
    base: &Image,
    base_index: &[u8],
    trails: &[Coverage],
    canvas: &mut [u8],
    palette: &mut Palette,
) {
    for y in rect.y..rect.bottom() {
        for x in rect.x..rect.right() {
            let i = y as usize * base.width + x as usize;
            let mut colour: Option<[f32; 3]> = None;
            for (k, trail) in trails.iter().enumerate() {
                let c = trail.at(x, y);
                if c > 0.0 {
                    let under = colour.unwrap_or_else(|| base.pixel(x as usize, y as usize));
                    colour = Some(mix(under, series_rgb(k), c));
                }
            }
            canvas[i] = match colour {
                Some(c) => palette.index(c),
                None => base_index[i],
            };
        }
    }
}

/// Run `index`'s current position at `step`: a disc of its colour ringed in ink, or an
/// empty ring of its colour once it has diverged; nothing when outside the window.
fn draw_head(
    run: &Run,
    index: usize,
    step: usize,
    panel: &Panel,
    frame: &mut [u8],
    width: usize,
    palette: &mut Palette,
) {
    let upto = run.points.partition_point(|p| p.step <= step);
    let Some(p) = upto.checked_sub(1).map(|k| run.points[k]) else {
        return;
    };
    if !panel.window.contains(p.x, p.y) {
        return;
    }
    let c = panel.to_pixel(p.x, p.y);
    let colour = series_rgb(index);
    let diverged = run.diverged_at.is_some_and(|d| step >= d);
    let reach = HEAD_RADIUS + 3.0;
    let around = Rect {
        x: (c.0 - reach).floor() as i32,
        y: (c.1 - reach).floor() as i32,
        width: (2.0 * reach).ceil() as u32 + 1,
        height: (2.0 * reach).ceil() as u32 + 1,
    };
    let Some(area) = intersection(around, panel.plot) else {
        return;
    };
    let mut fill = Coverage::new(area);
    let mut ring = Coverage::new(area);
    let (fill_box, ring_box, ring_colour) = if diverged {
        (None, ring.ring(c, HEAD_RADIUS, 2.0), colour)
    } else {
        (
            fill.disc(c, HEAD_RADIUS),
            ring.ring(c, HEAD_RADIUS, 1.5),
            INK,
        )
    };
    for (cover, bounds, colour) in [(&fill, fill_box, colour), (&ring, ring_box, ring_colour)] {
        let Some(b) = bounds else { continue };
        for y in b.y..b.bottom() {
            for x in b.x..b.right() {
                let a = cover.at(x, y);
                if a > 0.0 {
                    let i = y as usize * width + x as usize;
                    frame[i] = palette.index(mix(palette.rgb(frame[i]), colour, a));
                }
            }
        }
    }
}

/// The step shown and each run's loss or status: drawn on white boxes of the legend,
/// mapped to the palette and copied onto `frame`.
fn draw_status(
    runs: &[Run],
    step: usize,
    last_step: usize,
    layout: &AnimationLayout,
    frame: &mut [u8],
    palette: &mut Palette,
) -> Result<(), FigureError> {
    let legend = layout.legend;
    let counter = format!("step {step} of {last_step}");
    let mut boxes: Vec<(Rect, Label)> = vec![(
        Rect {
            height: STEP_LINE - 6,
            ..legend
        },
        Label {
            text: counter,
            x: legend.x as f64,
            baseline: legend.y as f64 + 16.0,
            size: 16.0,
            style: FontStyle::Bold,
            colour: style::INK,
            align: HPos::Left,
        },
    )];
    let statuses: Vec<(String, [u8; 3])> = runs.iter().map(|r| status(r, step)).collect();
    for (i, (text, colour)) in statuses.iter().enumerate() {
        let entry = layout.entry(i);
        let area = Rect {
            x: entry.x + 30,
            y: entry.y + 22,
            width: entry.width - 30,
            height: 18,
        };
        boxes.push((
            area,
            Label {
                text: text.clone(),
                x: area.x as f64,
                baseline: entry.y as f64 + 35.0,
                size: 14.0,
                style: FontStyle::Normal,
                colour: colour_of(*colour),
                align: HPos::Left,
            },
        ));
    }
    for (area, text) in boxes {
        let mut rgb = vec![255u8; area.width as usize * area.height as usize * 3];
        draw_on_rgb(&mut rgb, area.width, area.height, (area.x, area.y), &[text])?;
        for (k, p) in rgb.chunks_exact(3).enumerate() {
            let (x, y) = (
                area.x as usize + k % area.width as usize,
                area.y as usize + k / area.width as usize,
            );
            frame[y * layout.width as usize + x] = palette.index([p[0], p[1], p[2]].map(f32::from));
        }
    }
    Ok(())
}

/// What run's legend entry says at `step`: its loss there, or that it diverged.
fn status(run: &Run, step: usize) -> (String, [u8; 3]) {
    if let Some(d) = run.diverged_at.filter(|&d| step >= d) {
        return (format!("diverged at step {d}"), DIVERGED_RGB);
    }
    let upto = run.points.partition_point(|p| p.step <= step);
    match upto.checked_sub(1).map(|k| run.points[k]) {
        Some(p) => (format!("f = {}", short_number(p.loss)), MUTED),
        None => (String::new(), MUTED),
    }
}

/// Everything that does not move: the formula, the contour lines, axes, minima, the
/// starts and the legend's swatches and specs.
fn background(
    landscape: &dyn Landscape,
    runs: &[Run],
    layout: &AnimationLayout,
) -> Result<Image, FigureError> {
    let (w, h) = (layout.width, layout.height);
    let mut image = Image {
        width: w as usize,
        height: h as usize,
        rgb: vec![255; w as usize * h as usize * 3],
    };
    let panel = layout.panel;
    let plot = panel.plot;
    let window = panel.window;
    let whole = Rect {
        x: 0,
        y: 0,
        width: w,
        height: h,
    };

    let mut cover = Coverage::new(plot);
    for line in contour_lines(landscape, window)? {
        for ring in &line.rings {
            for piece in clip_polyline(ring, &window) {
                for s in piece.windows(2) {
                    cover.segment(
                        panel.to_pixel(s[0].0, s[0].1),
                        panel.to_pixel(s[1].0, s[1].1),
                        1.0,
                    );
                }
            }
        }
        let c = contour_colour(line.rank);
        cover.paint(&mut image, [c.0, c.1, c.2]);
    }
    for (x, y) in landscape.minima() {
        if window.contains(x, y) {
            let c = panel.to_pixel(x, y);
            for (colour, width, arm) in [(WHITE, 4.0, 8.0), (INK, 2.0, 7.0)] {
                cover.segment((c.0 - arm, c.1), (c.0 + arm, c.1), width);
                cover.segment((c.0, c.1 - arm), (c.0, c.1 + arm), width);
                cover.paint(&mut image, colour);
            }
        }
    }
    let mut starts: Vec<(f64, f64)> = Vec::new();
    for p in runs.iter().filter_map(|r| r.points.first()) {
        if window.contains(p.x, p.y) && !starts.contains(&(p.x, p.y)) {
            starts.push((p.x, p.y));
            cover.ring(panel.to_pixel(p.x, p.y), START_RADIUS, 2.0);
        }
    }
    cover.paint(&mut image, INK);

    // The frame and its outward ticks.
    let mut lines = Coverage::new(whole);
    let (l, t, r, b) = (
        plot.x as f64,
        plot.y as f64,
        plot.right() as f64,
        plot.bottom() as f64,
    );
    // On pixel centres, so that each side is one sharp pixel wide.
    let (fl, ft, fr, fb) = (l - 0.5, t - 0.5, r + 0.5, b + 0.5);
    let frame = [(fl, ft), (fr, ft), (fr, fb), (fl, fb), (fl, ft)];
    for s in frame.windows(2) {
        lines.segment(s[0], s[1], 1.0);
    }
    let mut texts: Vec<(String, f64, f64, HPos)> = Vec::new();
    let (x_ticks, x_step) = nice_ticks(
        window.x_min,
        window.x_max,
        (plot.width / 85).max(2) as usize,
    );
    for &v in &x_ticks {
        let x = panel.to_pixel(v, window.y_min).0;
        lines.segment((x, b), (x, b + 5.0), 1.0);
        texts.push((tick_label(v, x_step), x, b + 21.0, HPos::Center));
    }
    let (y_ticks, y_step) = nice_ticks(
        window.y_min,
        window.y_max,
        (plot.height / 85).max(2) as usize,
    );
    for &v in &y_ticks {
        let y = panel.to_pixel(window.x_min, v).1;
        lines.segment((l - 5.0, y), (l, y), 1.0);
        texts.push((tick_label(v, y_step), l - 9.0, y + 5.0, HPos::Right));
    }
    lines.paint(&mut image, FRAME);

    // The legend's swatches: a stretch of trail with a head.
    for i in 0..runs.len() {
        let e = layout.entry(i);
        let y = e.y as f64 + 12.0;
        let x = e.x as f64;
        lines.segment((x + 1.0, y), (x + 23.0, y), TRAIL_WIDTH);
        lines.disc((x + 12.0, y), 4.0);
        lines.paint(&mut image, series_rgb(i));
    }

    let formula = ellipsize(
        &format!("f(x, y) = {}", landscape.formula()),
        17.0,
        FontStyle::Bold,
        w as f64 - l - OUTER as f64,
    )?;
    let specs: Vec<String> = runs
        .iter()
        .map(|r| {
            ellipsize(
                &r.spec.to_string(),
                15.0,
                FontStyle::Normal,
                LEGEND_WIDTH as f64 - 30.0,
            )
        })
        .collect::<Result<_, _>>()?;
    let y_title_x = l
        - 9.0
        - texts
            .iter()
            .filter(|t| matches!(t.3, HPos::Right))
            .map(|t| text_width(&t.0, 13.5, FontStyle::Normal))
            .try_fold(0.0f64, |m, w| w.map(|w| m.max(w)))?
        - 12.0;
    let mut all: Vec<Label> = texts
        .iter()
        .map(|(text, x, baseline, align)| Label {
            text: text.clone(),
            x: *x,
            baseline: *baseline,
            size: 13.5,
            style: FontStyle::Normal,
            colour: style::INK,
            align: *align,
        })
        .collect();
    all.push(Label {
        text: formula,
        x: l,
        baseline: 27.0,
        size: 17.0,
        style: FontStyle::Bold,
        colour: style::INK,
        align: HPos::Left,
    });
    all.push(Label {
        text: "x".into(),
        x: (l + r) / 2.0,
        baseline: b + 42.0,
        size: 17.0,
        style: FontStyle::Italic,
        colour: style::INK,
        align: HPos::Center,
    });
    all.push(Label {
        text: "y".into(),
        x: y_title_x.max(OUTER as f64 + 6.0),
        baseline: (t + b) / 2.0 + 4.0,
        size: 17.0,
        style: FontStyle::Italic,
        colour: style::INK,
        align: HPos::Center,
    });
    for (i, spec) in specs.iter().enumerate() {
        let e = layout.entry(i);
        all.push(Label {
            text: spec.clone(),
            x: e.x as f64 + 30.0,
            baseline: e.y as f64 + 17.0,
            size: 15.0,
            style: FontStyle::Normal,
            colour: style::INK,
            align: HPos::Left,
        });
    }
    draw_on_rgb(&mut image.rgb, w, h, (0, 0), &all)?;
    Ok(image)
}
