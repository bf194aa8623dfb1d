//! The encodings a still figure comes in.

use super::error::FigureError;
use std::fmt;
use std::str::FromStr;

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
}
