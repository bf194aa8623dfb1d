//! The canvas every figure draws on: shapes and text in figure pixels on a plotters
//! backend (a bitmap drawn larger, or SVG), and a whole figure encoded as PNG or SVG.

use super::raster::{downsample, encode_rgb};
use super::style::{SUPERSAMPLE, WHITE};
use super::text::{register_fonts, Bounds, Label};
use crate::figure::error::FigureError;
use crate::figure::format::Format;
use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::style::text_anchor::{Pos, VPos};
use plotters::style::{Color, FontDesc, FontFamily, RGBAColor, ShapeStyle};

pub(crate) fn draw_failed(e: impl std::fmt::Display) -> FigureError {
    FigureError::Draw(e.to_string())
}

/// Where a backend draws, at what scale, from which figure row.
pub(crate) struct Canvas<'b, DB: DrawingBackend> {
    pub db: &'b mut DB,
    /// Backend pixels per figure pixel.
    pub scale: f64,
    /// The figure column at the backend's left edge (a PNG's panels are drawn one by one).
    pub origin_x: f64,
    /// The figure row at the backend's top edge (bands of a PNG start lower down).
    pub origin_y: f64,
    /// SVG: paths stay paths; bitmaps draw thick lines segment by segment.
    pub vector: bool,
}

fn style(colour: RGBAColor, width: f64, filled: bool) -> ShapeStyle {
    ShapeStyle {
        color: colour,
        filled,
        stroke_width: width.round().max(1.0) as u32,
    }
}

impl<'b, DB: DrawingBackend> Canvas<'b, DB> {
    /// A bitmap `scale` times the figure's size whose top left is figure point
    /// `origin`.
    pub(crate) fn bitmap(db: &'b mut DB, scale: f64, (origin_x, origin_y): (f64, f64)) -> Self {
        Canvas {
            db,
            scale,
            origin_x,
            origin_y,
            vector: false,
        }
    }

    /// An SVG document at the figure's size.
    pub(crate) fn svg(db: &'b mut DB) -> Self {
        Canvas {
            db,
            scale: 1.0,
            origin_x: 0.0,
            origin_y: 0.0,
            vector: true,
        }
    }

    /// The backend pixel holding figure point (x, y).
    pub(crate) fn at(&self, x: f64, y: f64) -> (i32, i32) {
        (
            ((x - self.origin_x) * self.scale).floor() as i32,
            ((y - self.origin_y) * self.scale).floor() as i32,
        )
    }

    pub(crate) fn fill_rect(
        &mut self,
        (l, t, r, b): Bounds,
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let (ul, br) = (self.at(l, t), self.at(r, b));
        self.db
            .draw_rect(ul, br, &style(colour, 1.0, true), true)
            .map_err(draw_failed)
    }

    /// Fills the polygon through `points` (closed back to the first).
    pub(crate) fn fill_polygon(
        &mut self,
        points: &[(f64, f64)],
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let pts: Vec<(i32, i32)> = points.iter().map(|&(x, y)| self.at(x, y)).collect();
        self.db
            .fill_polygon(pts, &style(colour, 1.0, true))
            .map_err(draw_failed)
    }

    pub(crate) fn polyline(
        &mut self,
        points: &[(f64, f64)],
        colour: RGBAColor,
        width: f64,
    ) -> Result<(), FigureError> {
        let width = width * self.scale;
        let pts: Vec<(i32, i32)> = points.iter().map(|&(x, y)| self.at(x, y)).collect();
        if self.vector || width <= 1.0 {
            return self
                .db
                .draw_path(pts, &style(colour, width, false))
                .map_err(draw_failed);
        }
        // plotters fills a thick path as one polygon, which leaves holes where a zigzag
        // crosses itself: draw each segment, with round joints where they would show.
        for pair in pts.windows(2) {
            self.db
                .draw_line(pair[0], pair[1], &style(colour, width, false))
                .map_err(draw_failed)?;
        }
        if width > 2.0 {
            let joint = (width / 2.0).round() as u32;
            for &p in &pts {
                self.db
                    .draw_circle(p, joint, &style(colour, 1.0, true), true)
                    .map_err(draw_failed)?;
            }
        }
        Ok(())
    }

    /// A polyline, solid or dashed as `dash` (dash, gap) says.
    pub(crate) fn styled_line(
        &mut self,
        points: &[(f64, f64)],
        colour: RGBAColor,
        width: f64,
        dash: Option<(f64, f64)>,
    ) -> Result<(), FigureError> {
        match dash {
            None => self.polyline(points, colour, width),
            Some((on, off)) => {
                for piece in super::geometry::dashes(points, on, off) {
                    self.polyline(&piece, colour, width)?;
                }
                Ok(())
            }
        }
    }

    pub(crate) fn disc(
        &mut self,
        (x, y): (f64, f64),
        radius: f64,
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let r = (radius * self.scale).round() as u32;
        let c = self.at(x, y);
        self.db
            .draw_circle(c, r, &style(colour, 1.0, true), true)
            .map_err(draw_failed)
    }

    pub(crate) fn ring(
        &mut self,
        (x, y): (f64, f64),
        radius: f64,
        width: f64,
        colour: RGBAColor,
    ) -> Result<(), FigureError> {
        let r = (radius * self.scale).round() as u32;
        let c = self.at(x, y);
        self.db
            .draw_circle(c, r, &style(colour, width * self.scale, false), false)
            .map_err(draw_failed)
    }

    pub(crate) fn text(&mut self, label: &Label) -> Result<(), FigureError> {
        // Bitmaps put the baseline half a size below the anchor, SVG 0.76 em below it.
        let drop = if self.vector {
            0.76 * label.size / 1.24
        } else {
            0.5 * label.size
        };
        let font = FontDesc::new(FontFamily::SansSerif, label.size * self.scale, label.style);
        let text_style = font
            .color(&label.colour)
            .pos(Pos::new(label.align, VPos::Top));
        let at = self.at(label.x, label.baseline - drop);
        self.db
            .draw_text(&label.text, &text_style, at)
            .map_err(draw_failed)
    }
}

/// A figure that draws itself on a white canvas of its size.
pub(crate) trait Drawing {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws everything.
    fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), FigureError>;
}

/// `drawing` encoded as `format`: a PNG drawn at twice its size and averaged down
/// (anti-aliasing), or an SVG drawn directly.
pub(crate) fn encode(drawing: &impl Drawing, format: Format) -> Result<Vec<u8>, FigureError> {
    register_fonts()?;
    let (w, h) = drawing.size();
    match format {
        Format::Png => {
            let s = SUPERSAMPLE;
            let mut buffer = vec![255u8; (w * s) as usize * (h * s) as usize * 3];
            {
                let mut backend = BitMapBackend::with_buffer(&mut buffer, (w * s, h * s));
                let mut canvas = Canvas::bitmap(&mut backend, s as f64, (0.0, 0.0));
                drawing.draw(&mut canvas)?;
                backend.present().map_err(draw_failed)?;
            }
            let mut image = vec![255u8; w as usize * h as usize * 3];
            downsample(&buffer, (w * s) as usize, &mut image, w as usize * 3);
            encode_rgb(&image, w, h)
        }
        Format::Svg => {
            let mut text = String::new();
            {
                let mut backend = SVGBackend::with_string(&mut text, (w, h));
                let mut canvas = Canvas::svg(&mut backend);
                canvas.fill_rect((0.0, 0.0, w as f64, h as f64), WHITE.to_rgba())?;
                drawing.draw(&mut canvas)?;
                backend.present().map_err(draw_failed)?;
            }
            Ok(text.into_bytes())
        }
    }
}
