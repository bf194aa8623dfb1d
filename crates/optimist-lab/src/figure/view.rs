//! The views of a race (`--view NAME`): each makes its own files from the same runs.
//!
//! A view is one line of the `views!` table below: its variant, its name, what it
//! shows, and the function (or closure) that makes its files.

use super::error::FigureError;
use super::format::Format;
use super::gif::animation;
use super::grid::grid;
use super::html::page;
use super::loss::loss;
use super::overlay::overlay;
use crate::landscape::Landscape;
use crate::race::Run;

/// What every view draws from.
#[derive(Clone, Copy)]
pub struct ViewInput<'a> {
    /// The landscape raced on, in the window to show.
    pub landscape: &'a dyn Landscape,
    /// The runs, in the order given.
    pub runs: &'a [Run],
    /// The formats wanted for still images (views with a format of their own, such as
    /// an animation, ignore them).
    pub formats: &'a [Format],
}

/// A file a view made: its name within the output folder, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewFile {
    /// e.g. `compare.png`.
    pub name: String,
    /// The whole file.
    pub bytes: Vec<u8>,
}

/// One still image per format, named `STEM.EXT`.
pub(super) fn stills(
    input: &ViewInput,
    stem: &str,
    draw: impl Fn(Format) -> Result<Vec<u8>, FigureError>,
) -> Result<Vec<ViewFile>, FigureError> {
    input
        .formats
        .iter()
        .map(|&format| {
            Ok(ViewFile {
                name: format!("{stem}.{}", format.extension()),
                bytes: draw(format)?,
            })
        })
        .collect()
}

macro_rules! views {
    ($($(#[doc = $doc:expr])* $variant:ident = $name:literal, $what:literal => $make:expr;)*) => {
        /// A way to see a race; `--view NAME` picks one or more.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum View {
            $($(#[doc = $doc])* $variant,)*
        }

        impl View {
            /// Every view, in the order listed in messages.
            pub const ALL: &'static [View] = &[$(View::$variant),*];

            /// The name `--view` takes.
            pub fn name(self) -> &'static str {
                match self {
                    $(View::$variant => $name,)*
                }
            }

            /// What it shows and the files it writes, in a few words.
            pub fn describe(self) -> &'static str {
                match self {
                    $(View::$variant => $what,)*
                }
            }

            /// Its files for `input`.
            pub fn files(self, input: &ViewInput) -> Result<Vec<ViewFile>, FigureError> {
                match self {
                    $(View::$variant => ($make)(input),)*
                }
            }
        }
    };
}

views! {
    /// The article's figure: one panel per optimizer, two columns.
    Grid = "grid", "one panel per optimizer, as in the article (compare.png)" =>
        |input: &ViewInput| stills(input, "compare", |f| grid(input.landscape, input.runs, f));
    /// Every trajectory on one contour plot, with a legend.
    Overlay = "overlay", "every trajectory on one contour plot, with a legend (overlay.png)" =>
        |input: &ViewInput| stills(input, "overlay", |f| overlay(input.landscape, input.runs, f));
    /// Loss against step, one line per optimizer.
    Loss = "loss", "loss against step on a log scale, one line per optimizer (loss.png)" =>
        |input: &ViewInput| stills(input, "loss", |f| loss(input.landscape, input.runs, f));
    /// The race animated: every optimizer moving at once over the contour plot.
    Gif = "gif", "the race animated, every optimizer moving at once (compare.gif)" =>
        |input: &ViewInput| animation(input.landscape, input.runs)
            .map(|bytes| vec![ViewFile { name: "compare.gif".into(), bytes }]);
    /// One self-contained interactive page.
    Html = "html", "an interactive page: step slider, play, a toggle per optimizer, values under the pointer (compare.html)" =>
        |input: &ViewInput| page(input.landscape, input.runs)
            .map(|page| vec![ViewFile { name: "compare.html".into(), bytes: page.into_bytes() }]);
}

impl Default for View {
    /// The article's grid.
    fn default() -> View {
        View::Grid
    }
}

impl std::fmt::Display for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every view's name, for messages: `grid, overlay, loss, gif, html`.
pub fn view_names() -> String {
    let names: Vec<&str> = View::ALL.iter().map(|v| v.name()).collect();
    names.join(", ")
}

impl std::str::FromStr for View {
    type Err = FigureError;

    /// A view's name, in any case, surrounding spaces ignored.
    fn from_str(text: &str) -> Result<View, FigureError> {
        let wanted = text.trim().to_ascii_lowercase();
        View::ALL
            .iter()
            .copied()
            .find(|v| v.name() == wanted)
            .ok_or_else(|| FigureError::UnknownView {
                name: text.to_string(),
                known: view_names(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_parse_by_name() {
        for &v in View::ALL {
            assert_eq!(v.name().parse::<View>(), Ok(v));
            assert!(!v.describe().is_empty());
        }
        assert_eq!(" Overlay ".parse::<View>(), Ok(View::Overlay));
        assert_eq!(View::default(), View::Grid);
        let e = "contour".parse::<View>().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("unknown view 'contour'; known views: {}", view_names())
        );
        assert!(view_names().starts_with("grid, overlay, loss"));
    }
}
