//! Why a figure could not be made.

use crate::landscape::Window;

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
    /// The work was cancelled before the figure was done.
    #[error("the figure was cancelled before it was done")]
    Cancelled,
    /// A view name that is not one of [`View::ALL`](super::View::ALL).
    #[error("unknown view '{name}'; known views: {known}")]
    UnknownView {
        /// The name given.
        name: String,
        /// Every view's name, as [`view_names`](super::view_names) lists them.
        known: String,
    },
}
