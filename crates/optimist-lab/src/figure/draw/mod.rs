//! The one drawing stack: every figure, GIF frame and page picture is drawn with these.
//!
//! - [`style`]: colours, sizes and line widths;
//! - [`text`]: the embedded font, its metrics, labels placed by their baseline;
//! - [`geometry`]: polylines clipped to a window and thinned;
//! - [`raster`]: supersampled bitmaps averaged down, anti-aliased coverage, the PNG
//!   encoder;
//! - [`canvas`]: shapes and text in figure pixels on a bitmap or SVG backend.
//!
//! Each imports only those above it in this list.

pub(crate) mod canvas;
pub(crate) mod geometry;
pub(crate) mod raster;
pub(crate) mod style;
pub(crate) mod text;
