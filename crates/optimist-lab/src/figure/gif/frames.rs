//! The frames: each adds the new stretch of every trail, moves the heads and updates
//! the statuses, in palette indices, over the background.

use super::background::background;
use super::layout::{
    animation_layout, frame_delay, frame_steps, AnimationLayout, FIRST_DELAY, HEAD_RADIUS,
    LAST_DELAY, STEP_LINE, TRAIL_WIDTH,
};
use super::palette::{Encoder, Palette};
use crate::figure::draw::geometry::clip_polyline;
use crate::figure::draw::raster::{intersection, mix, Coverage, Image};
use crate::figure::draw::style::{self, colour_of, series_rgb, DIVERGED_RGB, INK_RGB, MUTED_RGB};
use crate::figure::draw::text::{draw_on_rgb, register_fonts, Label};
use crate::figure::error::FigureError;
use crate::figure::layout::{short_number, Panel, Rect};
use crate::landscape::Landscape;
use crate::race::Run;
use plotters::style::text_anchor::HPos;
use plotters::style::FontStyle;
use std::sync::atomic::{AtomicBool, Ordering};

/// The animation of `runs` on `landscape`, as GIF bytes: one frame per step (at most
/// [`MAX_FRAMES`](super::MAX_FRAMES), evenly spread), each showing every trail up to that step, the
/// optimizers' current positions and their losses; the last frame holds for
/// [`LAST_DELAY`](super::LAST_DELAY), then it loops.
pub fn animation(landscape: &dyn Landscape, runs: &[Run]) -> Result<Vec<u8>, FigureError> {
    animation_until(landscape, runs, &AtomicBool::new(false))
}

/// [`animation`], stopped with [`FigureError::Cancelled`] once `cancel` is raised: it is
/// checked before every frame and every stretch of trail redrawn, so a server can drop
/// the work its client no longer waits for.
pub fn animation_until(
    landscape: &dyn Landscape,
    runs: &[Run],
    cancel: &AtomicBool,
) -> Result<Vec<u8>, FigureError> {
    let cancelled = || cancel.load(Ordering::Relaxed);
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
        if cancelled() {
            return Err(FigureError::Cancelled);
        }
        // New stretches of trail go into each run's coverage, then onto the canvas.
        let mut dirty: Vec<Rect> = Vec::new();
        for ((run, trail), progress) in runs.iter().zip(&mut trails).zip(&mut drawn) {
            extend_trail(run, step, &layout.panel, trail, progress, &mut dirty);
        }
        for rect in &dirty {
            if cancelled() {
                return Err(FigureError::Cancelled);
            }
            composite(rect, &base, &base_index, &trails, &mut canvas, &mut palette);
        }
        let mut frame = canvas.clone();
        let radii = head_radii(runs, step, &layout.panel);
        for (i, run) in runs.iter().enumerate() {
            draw_head(
                run,
                i,
                step,
                radii[i],
                &layout.panel,
                &mut frame,
                w,
                &mut palette,
            );
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
pub(super) fn end_step(run: &Run) -> usize {
    match (run.diverged_at, run.points.last()) {
        (Some(k), _) => k,
        (None, Some(p)) => p.step,
        (None, None) => 0,
    }
}

/// How far a run's trail has been drawn.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Progress {
    /// Points handed to the trail so far.
    points: usize,
    /// The last point drawn to, in data coordinates.
    last: Option<(f64, f64)>,
}

/// Adds `run`'s trail up to `step` to its coverage; the boxes it touched go to `dirty`.
/// Points closer than half a pixel to the last one drawn are skipped (the last point up
/// to `step` never is), so long runs cost what their drawing covers.
pub(super) fn extend_trail(
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
pub(super) fn composite(
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

/// Run `i`'s position at `step`, while there is one.
fn head_at(run: &Run, step: usize) -> Option<(f64, f64)> {
    let upto = run.points.partition_point(|p| p.step <= step);
    upto.checked_sub(1)
        .map(|k| (run.points[k].x, run.points[k].y))
}

/// Each head's radius at `step`: heads within a pixel of each other (at the start, all
/// of them) stack as concentric discs, the first run's widest, so every colour shows as
/// a ring.
pub(super) fn head_radii(runs: &[Run], step: usize, panel: &Panel) -> Vec<f64> {
    let pixels: Vec<Option<(f64, f64)>> = runs
        .iter()
        .map(|r| head_at(r, step).map(|(x, y)| panel.to_pixel(x, y)))
        .collect();
    let close = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| match (a, b) {
        (Some(a), Some(b)) => (a.0 - b.0).hypot(a.1 - b.1) < 1.0,
        _ => false,
    };
    (0..runs.len())
        .map(|i| {
            let later = (i + 1..runs.len())
                .filter(|&j| close(pixels[i], pixels[j]))
                .count();
            HEAD_RADIUS + later as f64 * STACK_STEP
        })
        .collect()
}

/// How much wider each stacked head is than the one drawn over it.
pub(super) const STACK_STEP: f64 = 3.0;

/// Run `index`'s current position at `step`: a disc of its colour, of `radius`, ringed
/// in ink, or an empty ring of its colour once it has diverged; nothing when outside the
/// window.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_head(
    run: &Run,
    index: usize,
    step: usize,
    radius: f64,
    panel: &Panel,
    frame: &mut [u8],
    width: usize,
    palette: &mut Palette,
) {
    let Some((x, y)) = head_at(run, step) else {
        return;
    };
    if !panel.window.contains(x, y) {
        return;
    }
    let c = panel.to_pixel(x, y);
    let colour = series_rgb(index);
    let diverged = run.diverged_at.is_some_and(|d| step >= d);
    // A stacked head's ink ring is thinner, so that its colour's band stays wide.
    let ink = if radius > HEAD_RADIUS { 1.0 } else { 1.5 };
    let reach = radius + 3.0;
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
        (None, ring.ring(c, radius, 2.0), colour)
    } else {
        (fill.disc(c, radius), ring.ring(c, radius, ink), INK_RGB)
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
pub(super) fn draw_status(
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
pub(super) fn status(run: &Run, step: usize) -> (String, [u8; 3]) {
    if let Some(d) = run.diverged_at.filter(|&d| step >= d) {
        return (format!("diverged at step {d}"), DIVERGED_RGB);
    }
    let upto = run.points.partition_point(|p| p.step <= step);
    match upto.checked_sub(1).map(|k| run.points[k]) {
        Some(p) => (format!("f = {}", short_number(p.loss)), MUTED_RGB),
        None => (String::new(), MUTED_RGB),
    }
}
