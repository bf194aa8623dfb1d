//! Text: the embedded DejaVu Sans, its metrics, and lines of text placed by their
//! baseline, measured and cut short to fit.

use crate::figure::error::FigureError;
use plotters::backend::{BitMapBackend, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, RGBColor};
use std::sync::OnceLock;

/// DejaVu Sans: ascender + descender = 1.164 em; glyphs reach 0.76 em above the
/// baseline and 0.24 em below it.
pub(crate) const EM_PER_SIZE: f64 = 1.0 / 1.164;
pub(crate) const ASCENT: f64 = 0.76;
pub(crate) const DESCENT: f64 = 0.24;

/// Registers DejaVu Sans (regular, bold, oblique) as plotters' `sans-serif`, once.
pub(crate) fn register_fonts() -> Result<(), FigureError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let faces = [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
            (FontStyle::Italic, dejavu::sans::oblique()),
        ];
        for (style, bytes) in faces {
            plotters::style::register_font("sans-serif", style, bytes)
                .map_err(|_| format!("the {} face was rejected", style.as_str()))?;
        }
        Ok(())
    })
    .clone()
    .map_err(FigureError::Font)
}

/// A line of text, placed by its baseline.
#[derive(Clone)]
pub(crate) struct Label {
    pub text: String,
    /// Left end, centre or right end, as `align` says.
    pub x: f64,
    pub baseline: f64,
    pub size: f64,
    pub style: FontStyle,
    pub colour: RGBColor,
    pub align: HPos,
}

/// A box in figure pixels: left, top, right, bottom.
pub(crate) type Bounds = (f64, f64, f64, f64);

impl Label {
    /// The box the glyphs may cover.
    pub fn bounds(&self) -> Result<Bounds, FigureError> {
        let w = text_width(&self.text, self.size, self.style)?;
        let left = match self.align {
            HPos::Left => self.x,
            HPos::Center => self.x - w / 2.0,
            HPos::Right => self.x - w,
        };
        let em = self.size * EM_PER_SIZE;
        Ok((
            left,
            self.baseline - ASCENT * em,
            left + w,
            self.baseline + DESCENT * em,
        ))
    }
}

/// Width of `text` in pixels, measured with the embedded font.
pub(crate) fn text_width(text: &str, size: f64, style: FontStyle) -> Result<f64, FigureError> {
    // Measured 8× larger: plotters rounds widths to whole pixels.
    FontDesc::new(FontFamily::SansSerif, size * 8.0, style)
        .box_size(text)
        .map(|(w, _)| w as f64 / 8.0)
        .map_err(|e| FigureError::Font(e.to_string()))
}

/// `text` cut short with an ellipsis so that it fits in `width`.
pub(crate) fn ellipsize(
    text: &str,
    size: f64,
    style: FontStyle,
    width: f64,
) -> Result<String, FigureError> {
    if text_width(text, size, style)? <= width {
        return Ok(text.to_string());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "…";
        if text_width(&candidate, size, style)? <= width {
            return Ok(candidate);
        }
    }
    Ok(String::new())
}

/// Draws `labels` straight onto an RGB buffer of `width` × `height` whose top left is
/// figure pixel `origin`, one buffer pixel per figure pixel, each anchored to the
/// nearest pixel (the animation's frames, which are not supersampled).
pub(crate) fn draw_on_rgb(
    rgb: &mut [u8],
    width: u32,
    height: u32,
    origin: (i32, i32),
    labels: &[Label],
) -> Result<(), FigureError> {
    let mut backend = BitMapBackend::with_buffer(rgb, (width, height));
    for t in labels {
        let style = FontDesc::new(FontFamily::SansSerif, t.size, t.style)
            .color(&t.colour)
            .pos(Pos::new(t.align, VPos::Top));
        // plotters puts a bitmap's baseline half a size below the anchor.
        let at = (
            t.x.round() as i32 - origin.0,
            (t.baseline - 0.5 * t.size).round() as i32 - origin.1,
        );
        backend
            .draw_text(&t.text, &style, at)
            .map_err(|e| FigureError::Draw(e.to_string()))?;
    }
    backend
        .present()
        .map_err(|e| FigureError::Draw(e.to_string()))
}
