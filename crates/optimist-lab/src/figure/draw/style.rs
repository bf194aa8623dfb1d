//! Colours, sizes and line widths: the look every figure, GIF frame and page shares.

use plotters::style::{RGBAColor, RGBColor};

/// PNGs are drawn this many times larger, then averaged down (by [`downsample`](super::raster::downsample)):
/// anti-aliasing.
pub(crate) const SUPERSAMPLE: u32 = 2;

pub(crate) const INK: RGBColor = RGBColor(34, 34, 34);
pub(crate) const MUTED: RGBColor = RGBColor(95, 95, 95);
pub(crate) const FRAME: RGBColor = RGBColor(70, 70, 70);
pub(crate) const DIVERGED: RGBColor = RGBColor(DIVERGED_RGB[0], DIVERGED_RGB[1], DIVERGED_RGB[2]);
pub(crate) const TRAJECTORY: RGBColor =
    RGBColor(TRAJECTORY_RGB[0], TRAJECTORY_RGB[1], TRAJECTORY_RGB[2]);
pub(crate) const WHITE: RGBColor = RGBColor(255, 255, 255);
/// The same colours as RGB bytes, for the animation's palette and rasterizer.
pub(crate) const INK_RGB: [u8; 3] = rgb(INK);
pub(crate) const MUTED_RGB: [u8; 3] = rgb(MUTED);
pub(crate) const FRAME_RGB: [u8; 3] = rgb(FRAME);
pub(crate) const WHITE_RGB: [u8; 3] = rgb(WHITE);

/// The colour of every trajectory (lines, step markers, end marker), as RGB. Nothing
/// else in a panel's plotting area uses it, so its pixels are the trajectory's.
pub const TRAJECTORY_RGB: [u8; 3] = [214, 39, 40];

/// The colour of "diverged at step k" in a panel's title, as RGB.
pub const DIVERGED_RGB: [u8; 3] = [170, 85, 0];

/// The colours of the runs in the overlay, loss, gif and html views, in run order:
/// Tableau's ten, then ten more picked to stay at least 25 apart (CIE76 ΔE) from every
/// other, all dark enough to read on white. The 21st run takes the first colour again,
/// dashed ([`series_dash`]).
pub const SERIES_RGB: [[u8; 3]; 20] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
    [68, 85, 0],
    [153, 0, 68],
    [119, 187, 136],
    [170, 119, 34],
    [255, 136, 136],
    [0, 85, 68],
    [34, 136, 255],
    [136, 0, 119],
    [187, 170, 119],
    [85, 68, 102],
];

/// The colour of run `index`, as RGB.
pub fn series_rgb(index: usize) -> [u8; 3] {
    SERIES_RGB[index % SERIES_RGB.len()]
}

/// The line style of run `index`, as (dash, gap) lengths in pixels: solid (`None`) for
/// the first 20 runs, then dashed, then dotted, so that runs sharing a colour differ.
pub fn series_dash(index: usize) -> Option<(f64, f64)> {
    match (index / SERIES_RGB.len()) % 3 {
        0 => None,
        1 => Some((9.0, 5.0)),
        _ => Some((2.5, 4.0)),
    }
}

/// `c` as RGB bytes.
pub(crate) const fn rgb(c: RGBColor) -> [u8; 3] {
    [c.0, c.1, c.2]
}

/// RGB bytes as plotters' colour.
pub(crate) const fn colour_of([r, g, b]: [u8; 3]) -> RGBColor {
    RGBColor(r, g, b)
}

/// The colour of series `index`, as plotters wants it.
pub(crate) fn series_colour(index: usize) -> RGBColor {
    colour_of(series_rgb(index))
}

/// The light lines of a chart's grid.
pub(crate) const GRID: RGBColor = RGBColor(228, 228, 228);

/// Font sizes, in plotters' unit: the height from ascender to descender, in pixels.
pub(crate) const TITLE_SIZE: f64 = 20.0;
pub(crate) const STATUS_SIZES: [f64; 4] = [15.0, 14.0, 13.0, 12.0];
pub(crate) const PARAMETER_SIZES: [f64; 4] = [15.5, 14.5, 13.5, 12.5];
pub(crate) const TICK_SIZE: f64 = 14.5;
pub(crate) const AXIS_SIZE: f64 = 18.0;
pub(crate) const HEADER_SIZE: f64 = 17.0;
pub(crate) const NOTE_SIZE: f64 = 14.5;

/// Trajectory line width, step marker radius, start ring radius, end square half-side.
pub(crate) const LINE_WIDTH: f64 = 2.0;
pub(crate) const DOT_RADIUS: f64 = 3.0;
pub(crate) const START_RADIUS: f64 = 8.5;
pub(crate) const END_HALF: f64 = 5.5;
pub(crate) const TICK_LENGTH: f64 = 5.0;

/// A muted colour for the contour line of rank `t` (0 lowest, 1 highest): viridis from
/// purple through blue to green, washed towards white so that the trajectory stands out.
pub(crate) fn contour_colour(t: f64) -> RGBAColor {
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
