//! Where an animation puts things, and which steps it shows.

use crate::figure::error::FigureError;
use crate::figure::layout::{grid_layout, Panel, Rect};
use crate::landscape::Window;

/// The most frames an animation has: longer races show evenly spaced steps.
pub const MAX_FRAMES: usize = 150;

/// How long the first frame shows, in hundredths of a second.
pub const FIRST_DELAY: u16 = 60;
/// How long the last frame holds before the animation starts again.
pub const LAST_DELAY: u16 = 300;

/// Space around the animation's edges.
pub(super) const OUTER: u32 = 10;
/// The band above the plot with the function's formula.
pub(super) const HEADER: u32 = 40;
/// Room left of the plot for tick labels and the y axis title.
pub(super) const LEFT: u32 = 62;
/// Room below the plot for tick labels and the x axis title.
pub(super) const BOTTOM: u32 = 50;
/// Between the plot and the legend.
pub(super) const GAP: u32 = 26;
/// The legend's width.
pub(super) const LEGEND_WIDTH: u32 = 230;
/// The legend's first line: the step shown.
pub(super) const STEP_LINE: u32 = 30;
/// One legend entry: the spec, then the loss or status.
pub(super) const ENTRY: u32 = 42;
/// The plot's longest side (shorter than the grid figure's: one plot, moving).
pub(super) const PLOT_SIDE: f64 = 440.0;

pub(super) const TRAIL_WIDTH: f64 = 2.5;
pub(super) const HEAD_RADIUS: f64 = 5.5;
pub(super) const START_RADIUS: f64 = 8.0;

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
pub(crate) fn spread_steps(last_step: usize, count: usize) -> Vec<usize> {
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
