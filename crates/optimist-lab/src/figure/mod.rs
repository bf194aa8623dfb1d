//! Every picture of a race: the article's grid of panels, the overlay, loss and
//! sensitivity charts, the animated GIF and the interactive page.
//!
//! All of them draw with one stack, `draw`: a canvas over plotters' bitmap and SVG
//! backends, one style, one font (DejaVu Sans, embedded in the binary, so no system
//! font is ever looked up), one rasterizer and one PNG encoder set-up. PNG is drawn at
//! twice its size and averaged down, which anti-aliases every line, marker and glyph;
//! SVG is drawn directly.
//!
//! Imports go one way: `draw` (style, text, geometry, raster, canvas) at the bottom,
//! then layout, axes and the shared parts, then each figure, then the views.

pub(crate) mod axis;
mod bench;
pub(crate) mod chart;
mod contour_labels;
pub(crate) mod contours;
pub(crate) mod draw;
pub(crate) mod error;
mod format;
mod gif;
mod grid;
mod html;
mod labels;
pub(crate) mod layout;
mod loss;
mod overlay;
pub(crate) mod parts;
mod sensitivity;
mod view;

pub use self::bench::{band_chart, BandChart, BandSeries};
pub use self::draw::style::{series_dash, series_rgb, DIVERGED_RGB, SERIES_RGB, TRAJECTORY_RGB};
pub use self::error::FigureError;
pub use self::format::Format;
pub use self::gif::{
    animation, animation_layout, animation_until, frame_delay, frame_steps, AnimationLayout,
    FIRST_DELAY, LAST_DELAY, MAX_FRAMES,
};
pub use self::grid::grid;
pub use self::html::{contour_rings, page, CONTOUR_QUANTUM, MAX_PAGE_STEPS, VALUE_GRID};
pub use self::layout::{grid_layout, Layout, Panel, Rect};
pub use self::loss::loss;
pub use self::overlay::{overlay, overlay_layout, OverlayLayout};
pub use self::sensitivity::sensitivity;
pub use self::view::{view_names, View, ViewFile, ViewInput};
