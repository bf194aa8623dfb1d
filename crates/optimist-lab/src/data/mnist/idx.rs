//! Reading IDX files, gzip-compressed or not: header and body checked against each other
//! and against the file's size, buffers never larger than the file can fill.

use super::dataset::{
    what_is, Dataset, Images, MnistError, CLASSES, IMAGES_MAGIC, LABELS_MAGIC, MAX_COUNT,
    MAX_DEFLATE_RATIO, MAX_IMAGE_PIXELS, MAX_RESERVE,
};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Reads an image file and its label file, and checks that they agree.
pub fn read_set(images: &Path, labels: &Path) -> Result<Dataset, MnistError> {
    let im = read_images(images)?;
    let lb = read_labels(labels)?;
    if im.count != lb.len() {
        return Err(MnistError::new(
            labels,
            format!(
                "holds {} labels but {} holds {} images",
                lb.len(),
                images.display(),
                im.count
            ),
        ));
    }
    Ok(Dataset {
        rows: im.rows,
        cols: im.cols,
        pixels: im.pixels,
        labels: lb,
    })
}

/// Reads an IDX image file (magic number `0x00000803`).
pub fn read_images(path: &Path) -> Result<Images, MnistError> {
    let (mut reader, limit) = open(path)?;
    let dims = read_header(&mut reader, path, IMAGES_MAGIC, "images", 3)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(MnistError::new(
            path,
            format!("the header gives images of {rows}×{cols} pixels"),
        ));
    }
    check_count(path, count, "images")?;
    if rows.saturating_mul(cols) > MAX_IMAGE_PIXELS {
        return Err(MnistError::new(
            path,
            format!(
                "the header gives images of {rows}×{cols} pixels; at most {MAX_IMAGE_PIXELS} pixels each"
            ),
        ));
    }
    // Both factors are bounded above, so the product fits.
    let len = count * rows * cols;
    let pixels = read_body(
        &mut reader,
        path,
        len,
        limit,
        &format!("{count} images of {rows}×{cols} pixels"),
    )?;
    Ok(Images {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Reads an IDX label file (magic number `0x00000801`); every label must be 0–9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, MnistError> {
    let (mut reader, limit) = open(path)?;
    let count = read_header(&mut reader, path, LABELS_MAGIC, "labels", 1)?[0];
    check_count(path, count, "labels")?;
    let labels = read_body(&mut reader, path, count, limit, &format!("{count} labels"))?;
    if let Some(i) = labels.iter().position(|&l| usize::from(l) >= CLASSES) {
        return Err(MnistError::new(
            path,
            format!(
                "label {} at index {i} is not a class 0–{}",
                labels[i],
                CLASSES - 1
            ),
        ));
    }
    Ok(labels)
}

/// A count from a header, checked against [`MAX_COUNT`].
fn check_count(path: &Path, count: usize, what: &str) -> Result<(), MnistError> {
    if count > MAX_COUNT {
        return Err(MnistError::new(
            path,
            format!(
                "the header declares {count} {what}; at most {MAX_COUNT} (MNIST has 60000 and 10000)"
            ),
        ));
    }
    Ok(())
}

/// Opens a file, decompressing it if it starts with the gzip signature; also returns
/// the most bytes its content can amount to.
fn open(path: &Path) -> Result<(Box<dyn Read>, u64), MnistError> {
    // Opening a named pipe would wait for a writer; a device could read forever.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(MnistError::new(
            path,
            format!("{}, not a file", what_is(path)),
        ));
    }
    let file = File::open(path).map_err(|e| MnistError::new(path, format!("cannot open: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| MnistError::new(path, format!("cannot read: {e}")))?
        .len();
    let mut reader = BufReader::new(file);
    let mut signature = [0u8; 2];
    let got = read_full(&mut reader, &mut signature)
        .map_err(|e| MnistError::new(path, format!("cannot read: {e}")))?;
    let head = std::io::Cursor::new(signature[..got].to_vec());
    let whole = head.chain(reader);
    if got == 2 && signature == [0x1f, 0x8b] {
        let limit = size.saturating_mul(MAX_DEFLATE_RATIO);
        Ok((Box::new(flate2::read::GzDecoder::new(whole)), limit))
    } else {
        Ok((Box::new(whole), size))
    }
}

/// Reads until `buf` is full or the input ends; returns the number of bytes read.
fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The wording for a read error: gzip's complaints mean a damaged file.
fn read_problem(e: std::io::Error, what: &str) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            format!("truncated: the compressed data ends inside the {what}")
        }
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            format!("corrupt gzip data in the {what}: {e}")
        }
        _ => format!("cannot read the {what}: {e}"),
    }
}

/// Reads and checks the magic number and dimensions.
fn read_header(
    reader: &mut dyn Read,
    path: &Path,
    magic: u32,
    kind: &str,
    ndim: usize,
) -> Result<Vec<usize>, MnistError> {
    let mut head = [0u8; 4];
    let got = read_full(reader, &mut head)
        .map_err(|e| MnistError::new(path, read_problem(e, "header")))?;
    if got < 4 {
        return Err(MnistError::new(
            path,
            format!("only {got} bytes: too short for an IDX header"),
        ));
    }
    let found = u32::from_be_bytes(head);
    if found != magic {
        let what = match found {
            IMAGES_MAGIC => "an IDX image file".to_string(),
            LABELS_MAGIC => "an IDX label file".to_string(),
            _ if head[0] == 0 && head[1] == 0 => format!(
                "an IDX file of element type 0x{:02x} with {} dimensions",
                head[2], head[3]
            ),
            _ => "not an IDX file".to_string(),
        };
        return Err(MnistError::new(
            path,
            format!(
                "magic number 0x{found:08x} ({what}); expected 0x{magic:08x} (IDX {kind}: unsigned bytes, {ndim} dimension{})",
                if ndim == 1 { "" } else { "s" }
            ),
        ));
    }
    let mut dims = vec![0u8; 4 * ndim];
    let got = read_full(reader, &mut dims)
        .map_err(|e| MnistError::new(path, read_problem(e, "header")))?;
    if got < dims.len() {
        return Err(MnistError::new(
            path,
            format!(
                "truncated: the header ends after {} of its {ndim} dimensions",
                got / 4
            ),
        ));
    }
    Ok(dims
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect())
}

/// Reads exactly `len` bytes of data and checks that nothing follows.
fn read_body(
    reader: &mut dyn Read,
    path: &Path,
    len: usize,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, MnistError> {
    // Reserve what the header says only as far as the file could hold it, and never
    // much at once: a header that lies about its size then fails on reading, with the
    // memory of the data actually there.
    let mut data = Vec::with_capacity(
        len.min(usize::try_from(limit).unwrap_or(usize::MAX))
            .min(MAX_RESERVE),
    );
    reader
        .take(len as u64)
        .read_to_end(&mut data)
        .map_err(|e| MnistError::new(path, read_problem(e, "data")))?;
    if data.len() < len {
        return Err(MnistError::new(
            path,
            format!(
                "truncated: the header declares {what} ({len} bytes) but the file holds only {} bytes of data",
                data.len()
            ),
        ));
    }
    // Reading on to the end also makes gzip check its CRC and length.
    let mut extra = [0u8; 1];
    let got = read_full(reader, &mut extra)
        .map_err(|e| MnistError::new(path, read_problem(e, "data")))?;
    if got > 0 {
        return Err(MnistError::new(
            path,
            format!("more data than the header declares ({what}, {len} bytes)"),
        ));
    }
    Ok(data)
}
