//! The animation's palette and its GIF encoder: frames stored as the pixels that changed.

use crate::figure::draw::raster::{mix, Image};
use crate::figure::draw::style::{
    series_rgb, DIVERGED_RGB, FRAME_RGB, INK_RGB, MUTED_RGB, SERIES_RGB, WHITE_RGB,
};
use crate::figure::error::FigureError;
use crate::race::Run;
use std::borrow::Cow;
use std::collections::HashMap;

/// The animation's colours: at most 255 (index 255 is the transparent one of the
/// difference frames), the fixed ones first, then the background's most common.
pub(super) struct Palette {
    colours: Vec<[u8; 3]>,
    /// The nearest colour for each RGB colour cut to 6 bits a channel, once asked.
    nearest: Vec<u8>,
}

/// The index no pixel takes: unchanged pixels of a difference frame.
const TRANSPARENT: u8 = 255;
/// Not yet looked up, in [`Palette::nearest`] (the transparent index never is one).
const UNKNOWN: u8 = TRANSPARENT;

impl Palette {
    pub(super) fn new(runs: &[Run], base: &Image) -> Palette {
        let mut colours: Vec<[u8; 3]> =
            vec![WHITE_RGB, INK_RGB, MUTED_RGB, FRAME_RGB, DIVERGED_RGB];
        let add = |c: [u8; 3], colours: &mut Vec<[u8; 3]>| {
            if !colours.contains(&c) && colours.len() < TRANSPARENT as usize {
                colours.push(c);
            }
        };
        // The trails, their anti-aliased edges over white, text's grey edges.
        for i in 0..runs.len().min(SERIES_RGB.len()) {
            let c = series_rgb(i);
            add(c, &mut colours);
            for t in [0.25, 0.5, 0.75] {
                add(round(mix(WHITE_RGB.map(f32::from), c, t)), &mut colours);
            }
        }
        for k in 1..8 {
            add(
                round(mix(WHITE_RGB.map(f32::from), INK_RGB, k as f32 / 8.0)),
                &mut colours,
            );
        }
        let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
        for p in base.rgb.chunks_exact(3) {
            *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
        }
        let mut common: Vec<([u8; 3], usize)> = counts.into_iter().collect();
        common.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (c, _) in common {
            add(c, &mut colours);
        }
        Palette {
            colours,
            nearest: vec![UNKNOWN; 1 << 18],
        }
    }

    /// The index of the colour nearest to `c`.
    pub(super) fn closest(&self, c: [f32; 3]) -> u8 {
        let mut best = (f32::MAX, 0);
        for (i, p) in self.colours.iter().enumerate() {
            let d: f32 = (0..3).map(|k| (c[k] - p[k] as f32).powi(2)).sum();
            if d < best.0 {
                best = (d, i);
            }
        }
        best.1 as u8
    }

    /// The index for `c`, looked up once per cell of a 6-bit-per-channel grid (from the
    /// cell's centre, so the answer does not depend on which colour came first).
    pub(super) fn index(&mut self, c: [f32; 3]) -> u8 {
        let q = c.map(|v| (v.round().clamp(0.0, 255.0) as usize) >> 2);
        let key = (q[0] << 12) | (q[1] << 6) | q[2];
        if self.nearest[key] == UNKNOWN {
            self.nearest[key] = self.closest(q.map(|v| (v * 4 + 2) as f32));
        }
        self.nearest[key]
    }

    /// Every pixel of `rgb` as its nearest colour's index, exactly.
    pub(super) fn map_exact(&self, rgb: &[u8]) -> Vec<u8> {
        let mut cache: HashMap<[u8; 3], u8> = HashMap::new();
        rgb.chunks_exact(3)
            .map(|p| {
                let c = [p[0], p[1], p[2]];
                *cache
                    .entry(c)
                    .or_insert_with(|| self.closest(c.map(f32::from)))
            })
            .collect()
    }

    pub(super) fn rgb(&self, index: u8) -> [f32; 3] {
        self.colours[index as usize].map(f32::from)
    }

    /// The GIF's colour table: 256 entries, the transparent one black.
    pub(super) fn table(&self) -> Vec<u8> {
        let mut table: Vec<u8> = self.colours.iter().flatten().copied().collect();
        table.resize(256 * 3, 0);
        table
    }
}

fn round(c: [f32; 3]) -> [u8; 3] {
    c.map(|v| v.round().clamp(0.0, 255.0) as u8)
}

/// GIF frames as they come: each stored as the box of pixels that changed since the
/// previous frame (the rest transparent); a frame that changes nothing lengthens the
/// previous one instead.
pub(super) struct Encoder {
    gif: gif::Encoder<Vec<u8>>,
    pending: Option<gif::Frame<'static>>,
}

fn gif_failed(e: gif::EncodingError) -> FigureError {
    FigureError::Gif(e.to_string())
}

impl Encoder {
    pub(super) fn new(width: u32, height: u32, palette: &Palette) -> Result<Self, FigureError> {
        let too_big = || FigureError::Gif(format!("{width} × {height} pixels is too large"));
        let w = u16::try_from(width).map_err(|_| too_big())?;
        let h = u16::try_from(height).map_err(|_| too_big())?;
        let mut gif = gif::Encoder::new(Vec::new(), w, h, &palette.table()).map_err(gif_failed)?;
        gif.set_repeat(gif::Repeat::Infinite).map_err(gif_failed)?;
        Ok(Encoder { gif, pending: None })
    }

    pub(super) fn frame(
        &mut self,
        frame: &[u8],
        previous: Option<&[u8]>,
        width: usize,
        height: usize,
        delay: u16,
    ) -> Result<(), FigureError> {
        let Some(previous) = previous else {
            self.pending = Some(gif::Frame {
                width: width as u16,
                height: height as u16,
                buffer: Cow::Owned(frame.to_vec()),
                delay,
                ..gif::Frame::default()
            });
            return Ok(());
        };
        let mut changed: Option<(usize, usize, usize, usize)> = None;
        for y in 0..height {
            let row = y * width..(y + 1) * width;
            let (a, b) = (&frame[row.clone()], &previous[row]);
            if a == b {
                continue;
            }
            let first = a.iter().zip(b).position(|(p, q)| p != q).unwrap_or(0);
            let last = width - a.iter().zip(b).rev().position(|(p, q)| p != q).unwrap_or(0);
            changed = Some(match changed {
                None => (first, y, last, y + 1),
                Some((l, t, r, _)) => (l.min(first), t, r.max(last), y + 1),
            });
        }
        let Some((l, t, r, b)) = changed else {
            if let Some(p) = &mut self.pending {
                p.delay = p.delay.saturating_add(delay);
            }
            return Ok(());
        };
        let mut buffer = Vec::with_capacity((r - l) * (b - t));
        for y in t..b {
            for x in l..r {
                let i = y * width + x;
                buffer.push(if frame[i] == previous[i] {
                    TRANSPARENT
                } else {
                    frame[i]
                });
            }
        }
        self.flush()?;
        self.pending = Some(gif::Frame {
            left: l as u16,
            top: t as u16,
            width: (r - l) as u16,
            height: (b - t) as u16,
            buffer: Cow::Owned(buffer),
            transparent: Some(TRANSPARENT),
            delay,
            ..gif::Frame::default()
        });
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<(), FigureError> {
        if let Some(frame) = self.pending.take() {
            self.gif.write_frame(&frame).map_err(gif_failed)?;
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<Vec<u8>, FigureError> {
        self.flush()?;
        self.gif.into_inner().map_err(gif_failed)
    }
}
