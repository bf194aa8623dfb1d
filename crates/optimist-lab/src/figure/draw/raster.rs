//! Pixels: averaging a supersampled bitmap down, and encoding RGB rows as PNG with the
//! one encoder set-up every PNG uses.

use crate::figure::error::FigureError;
use crate::figure::layout::Rect;

/// Averages 2 × 2 blocks of the RGB `src` (`src_w` pixels wide) into `dst`, whose rows
/// start `dst_stride` bytes apart.
pub(crate) fn downsample(src: &[u8], src_w: usize, dst: &mut [u8], dst_stride: usize) {
    let w = src_w / 2;
    for (r, block) in src.chunks_exact(src_w * 6).enumerate() {
        let out_row = &mut dst[r * dst_stride..r * dst_stride + w * 3];
        let (upper, lower) = block.split_at(src_w * 3);
        let pairs = upper.chunks_exact(6).zip(lower.chunks_exact(6));
        for (out, (a, b)) in out_row.chunks_exact_mut(3).zip(pairs) {
            for c in 0..3 {
                let sum = a[c] as u16 + a[c + 3] as u16 + b[c] as u16 + b[c + 3] as u16;
                out[c] = ((sum + 2) / 4) as u8;
            }
        }
    }
}

/// Why the PNG encoder failed.
pub(crate) fn encode_failed(e: impl std::fmt::Display) -> FigureError {
    FigureError::Encode(e.to_string())
}

/// The PNG writer every figure uses, its header written: 8-bit RGB, `width` × `height`.
pub(crate) fn png_writer<W: std::io::Write>(
    out: W,
    width: u32,
    height: u32,
) -> Result<png::Writer<W>, FigureError> {
    let mut encoder = png::Encoder::new(out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Mostly flat colour: the fast compressor is much quicker for a few more bytes.
    encoder.set_compression(png::Compression::Fast);
    encoder.write_header().map_err(encode_failed)
}

/// An RGB image as PNG bytes.
pub(crate) fn encode_rgb(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, FigureError> {
    let mut bytes = Vec::new();
    let mut writer = png_writer(&mut bytes, width, height)?;
    writer.write_image_data(rgb).map_err(encode_failed)?;
    writer.finish().map_err(encode_failed)?;
    Ok(bytes)
}

/// An RGB image.
pub(crate) struct Image {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Image {
    pub(crate) fn pixel(&self, x: usize, y: usize) -> [f32; 3] {
        let i = (y * self.width + x) * 3;
        [
            self.rgb[i] as f32,
            self.rgb[i + 1] as f32,
            self.rgb[i + 2] as f32,
        ]
    }
}

/// Anti-aliased coverage of shapes over a rectangle of pixels, 0 to 1. Overlapping
/// shapes keep the larger coverage, so a polyline's joints are not painted twice.
pub(crate) struct Coverage {
    area: Rect,
    alpha: Vec<f32>,
    /// The box of every pixel covered since the last [`Coverage::paint`].
    touched: Option<Rect>,
}

impl Coverage {
    pub(crate) fn new(area: Rect) -> Self {
        Coverage {
            area,
            alpha: vec![0.0; area.width as usize * area.height as usize],
            touched: None,
        }
    }

    pub(crate) fn at(&self, x: i32, y: i32) -> f32 {
        let a = self.area;
        self.alpha[(y - a.y) as usize * a.width as usize + (x - a.x) as usize]
    }

    /// Covers the pixels at distance `d(px, py)` from a shape, `half` being its half
    /// width: fully inside, fading over one pixel at the edge. Pixel (i, j) is the square
    /// [i, i + 1) × [j, j + 1); the distance is taken from its centre.
    pub(crate) fn cover(
        &mut self,
        rows: (f64, f64),
        columns: impl Fn(f64) -> (f64, f64),
        half: f64,
        d: impl Fn(f64, f64) -> f64,
    ) -> Option<Rect> {
        let a = self.area;
        let top = (rows.0.floor() as i64).max(a.y as i64);
        let bottom = (rows.1.ceil() as i64).min(a.bottom() as i64);
        let mut touched: Option<(i32, i32, i32, i32)> = None;
        for y in top..bottom {
            let (lo, hi) = columns(y as f64 + 0.5);
            let left = (lo.floor() as i64).max(a.x as i64);
            let right = (hi.ceil() as i64).min(a.right() as i64);
            for x in left..right {
                let c = (half + 0.5 - d(x as f64 + 0.5, y as f64 + 0.5)).clamp(0.0, 1.0) as f32;
                if c > 0.0 {
                    let i =
                        (y as i32 - a.y) as usize * a.width as usize + (x as i32 - a.x) as usize;
                    self.alpha[i] = self.alpha[i].max(c);
                    let (x, y) = (x as i32, y as i32);
                    touched = Some(match touched {
                        None => (x, y, x + 1, y + 1),
                        Some((l, t, r, b)) => (l.min(x), t.min(y), r.max(x + 1), b.max(y + 1)),
                    });
                }
            }
        }
        let touched = touched.map(|(l, t, r, b)| Rect {
            x: l,
            y: t,
            width: (r - l) as u32,
            height: (b - t) as u32,
        });
        self.touched = union(self.touched, touched);
        touched
    }

    /// A segment of `width` from `p` to `q` (pixel coordinates), with round ends. Only
    /// the pixels near it are visited, so long segments cost their length, not their box.
    pub(crate) fn segment(&mut self, p: (f64, f64), q: (f64, f64), width: f64) -> Option<Rect> {
        let half = width / 2.0;
        let reach = half + 1.0;
        let (dx, dy) = (q.0 - p.0, q.1 - p.1);
        let length2 = dx * dx + dy * dy;
        let distance = move |x: f64, y: f64| {
            let t = if length2 > 0.0 {
                (((x - p.0) * dx + (y - p.1) * dy) / length2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (x - p.0 - t * dx).hypot(y - p.1 - t * dy)
        };
        let rows = (p.1.min(q.1) - reach, p.1.max(q.1) + reach);
        let (left, right) = (p.0.min(q.0) - reach, p.0.max(q.0) + reach);
        // Steep segments: on each row, only the columns near the line's crossing.
        let columns = move |y: f64| {
            if dy.abs() < 1.0 || dx.abs() < 1.0 {
                return (left, right);
            }
            let x = p.0 + (y - p.1) * dx / dy;
            let spread = reach * length2.sqrt() / dy.abs() + 1.0;
            ((x - spread).max(left), (x + spread).min(right))
        };
        self.cover(rows, columns, half, distance)
    }

    /// A filled disc.
    pub(crate) fn disc(&mut self, c: (f64, f64), radius: f64) -> Option<Rect> {
        let reach = radius + 1.0;
        self.cover(
            (c.1 - reach, c.1 + reach),
            |_| (c.0 - reach, c.0 + reach),
            radius,
            |x, y| (x - c.0).hypot(y - c.1),
        )
    }

    /// A circle of line `width`.
    pub(crate) fn ring(&mut self, c: (f64, f64), radius: f64, width: f64) -> Option<Rect> {
        let reach = radius + width;
        self.cover(
            (c.1 - reach, c.1 + reach),
            |_| (c.0 - reach, c.0 + reach),
            width / 2.0,
            |x, y| ((x - c.0).hypot(y - c.1) - radius).abs(),
        )
    }

    /// Paints `colour` over `image` where covered, and clears the coverage.
    pub(crate) fn paint(&mut self, image: &mut Image, colour: [u8; 3]) {
        let a = self.area;
        let Some(t) = self.touched.take() else {
            return;
        };
        for y in t.y.max(0)..t.bottom().min(image.height as i32) {
            for x in t.x.max(0)..t.right().min(image.width as i32) {
                let i = (y - a.y) as usize * a.width as usize + (x - a.x) as usize;
                let c = std::mem::take(&mut self.alpha[i]);
                if c > 0.0 {
                    let p = (y as usize * image.width + x as usize) * 3;
                    for (v, &ink) in image.rgb[p..p + 3].iter_mut().zip(&colour) {
                        *v = (*v as f32 * (1.0 - c) + ink as f32 * c).round() as u8;
                    }
                }
            }
        }
    }
}

/// The smallest box holding both.
pub(crate) fn union(a: Option<Rect>, b: Option<Rect>) -> Option<Rect> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (l, t) = (a.x.min(b.x), a.y.min(b.y));
            let (r, b) = (a.right().max(b.right()), a.bottom().max(b.bottom()));
            Some(Rect {
                x: l,
                y: t,
                width: (r - l) as u32,
                height: (b - t) as u32,
            })
        }
        (a, b) => a.or(b),
    }
}

/// The part of `a` inside `b`.
pub(crate) fn intersection(a: Rect, b: Rect) -> Option<Rect> {
    let (l, t) = (a.x.max(b.x), a.y.max(b.y));
    let (r, bottom) = (a.right().min(b.right()), a.bottom().min(b.bottom()));
    (l < r && t < bottom).then(|| Rect {
        x: l,
        y: t,
        width: (r - l) as u32,
        height: (bottom - t) as u32,
    })
}

/// Blends `colour` over `under` with coverage `c`.
pub(crate) fn mix(under: [f32; 3], colour: [u8; 3], c: f32) -> [f32; 3] {
    [0, 1, 2].map(|k| under[k] * (1.0 - c) + colour[k] as f32 * c)
}
