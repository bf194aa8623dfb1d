//! The comparison figure: one panel per run, two columns, each with the landscape's
//! contour lines, the run's trajectory (start, every step, end), the minima, and a title
//! naming the optimizer and its hyperparameters.
//!
//! PNG is drawn at twice its size and averaged down, which anti-aliases every line,
//! marker and glyph; SVG is drawn directly. Text uses DejaVu Sans, embedded in the
//! binary, so no system font is ever looked up.

mod bench;
mod contours;
mod gif;
mod html;
mod layout;
mod loss;
mod overlay;
mod plot;
mod render;
pub(crate) use render::{downsample, register_fonts};
mod sensitivity;
mod view;

pub use self::gif::{
    animation, animation_layout, frame_delay, frame_steps, AnimationLayout, FIRST_DELAY,
    LAST_DELAY, MAX_FRAMES,
};
pub use bench::{band_chart, BandChart, BandSeries};
pub use html::{page, MAX_PAGE_STEPS, VALUE_GRID};
pub use layout::{grid_layout, Layout, Panel, Rect};
pub use loss::loss;
pub use overlay::{overlay, overlay_layout, OverlayLayout};
pub use sensitivity::sensitivity;
pub use view::{view_names, View, ViewFile, ViewInput};

use crate::landscape::{Landscape, Window};
use crate::race::Run;
use std::fmt;
use std::str::FromStr;

/// The colour of every trajectory (lines, step markers, end marker), as RGB. Nothing
/// else in a panel's plotting area uses it, so its pixels are the trajectory's.
pub const TRAJECTORY_RGB: [u8; 3] = [214, 39, 40];

/// The colour of "diverged at step k" in a panel's title, as RGB.
pub const DIVERGED_RGB: [u8; 3] = [170, 85, 0];

/// The colours of the runs in the overlay, loss, gif and html views, in run order
/// (the eleventh run takes the first colour again): Tableau's ten, saturated enough to
/// stand out from the washed-out contour lines.
pub const SERIES_RGB: [[u8; 3]; 10] = [
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
];

/// The colour of run `index`, as RGB.
pub fn series_rgb(index: usize) -> [u8; 3] {
    SERIES_RGB[index % SERIES_RGB.len()]
}

/// How a figure is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A PNG image (RGB, 8 bits per channel).
    Png,
    /// An SVG document.
    Svg,
}

impl Format {
    /// Every format, in the order listed in messages.
    pub const ALL: [Format; 2] = [Format::Png, Format::Svg];

    /// The file extension, without the dot: `png` or `svg`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = FigureError;

    /// `png` or `svg`, in any case, surrounding spaces ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.extension() == wanted)
            .ok_or_else(|| FigureError::UnknownFormat(text.to_string()))
    }
}

/// Why a figure could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FigureError {
    /// A format name that is neither `png` nor `svg`.
    #[error("unknown figure format '{0}'; expected png or svg")]
    UnknownFormat(String),
    /// No run to draw.
    #[error("no run to draw: a figure needs at least one optimizer")]
    NoRuns,
    /// The landscape's window is not a finite rectangle of positive size.
    #[error("the landscape's window x ∈ [{}, {}], y ∈ [{}, {}] is not a finite rectangle of positive size", .0.x_min, .0.x_max, .0.y_min, .0.y_max)]
    BadWindow(Window),
    /// The embedded font could not be loaded or used.
    #[error("the embedded DejaVu Sans font could not be used: {0}")]
    Font(String),
    /// The contour lines could not be computed.
    #[error("contour lines could not be computed: {0}")]
    Contour(String),
    /// The drawing backend failed.
    #[error("the figure could not be drawn: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("the PNG could not be encoded: {0}")]
    Encode(String),
    /// The GIF encoder failed.
    #[error("the GIF could not be encoded: {0}")]
    Gif(String),
    /// A view name that is not one of [`View::ALL`].
    #[error("unknown view '{0}'; known views: {known}", known = view_names())]
    UnknownView(String),
}

/// The figure of `runs` on `landscape`, encoded as `format`: one panel per run (one
/// column for a single run, else two), laid out as [`grid_layout`] says.
pub fn grid(
    landscape: &dyn Landscape,
    runs: &[Run],
    format: Format,
) -> Result<Vec<u8>, FigureError> {
    let layout = grid_layout(runs.len(), landscape.window())?;
    render::register_fonts()?;
    let contours = contours::contour_lines(landscape, landscape.window())?;
    let scene = render::Scene {
        landscape,
        runs,
        layout: &layout,
        contours: &contours,
    };
    match format {
        Format::Png => render::png(&scene),
        Format::Svg => render::svg(&scene).map(String::into_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_name_their_files() {
        assert_eq!("png".parse::<Format>(), Ok(Format::Png));
        assert_eq!(" SVG ".parse::<Format>(), Ok(Format::Svg));
        assert_eq!(Format::Svg.extension(), "svg");
        assert_eq!(Format::Png.to_string(), "png");
        let e = "jpeg".parse::<Format>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown figure format 'jpeg'; expected png or svg"
        );
    }

    #[test]
    fn no_runs_is_an_error() {
        let e = grid(&crate::landscape::article(), &[], Format::Png).unwrap_err();
        assert_eq!(e, FigureError::NoRuns);
    }
}
