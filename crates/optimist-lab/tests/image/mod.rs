//! A decoded PNG figure, for the figure tests to read pixels from.

// Each test file uses the methods it needs.
#![allow(dead_code)]

/// An 8-bit RGB image.
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Image {
    /// Decodes a PNG, which must be 8-bit RGB (as the figures are written).
    pub fn decode(bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).expect("a PNG frame");
        assert_eq!(
            (info.color_type, info.bit_depth),
            (png::ColorType::Rgb, png::BitDepth::Eight)
        );
        rgb.truncate(info.buffer_size());
        Image {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    /// The pixel at (x, y).
    pub fn pixel(&self, x: i32, y: i32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Every pixel with its position, row by row.
    pub fn pixels(&self) -> impl Iterator<Item = (i32, i32, [u8; 3])> + '_ {
        let w = self.width as usize;
        self.rgb
            .chunks_exact(3)
            .enumerate()
            .map(move |(i, p)| ((i % w) as i32, (i / w) as i32, [p[0], p[1], p[2]]))
    }
}
