//! MNIST (and Fashion-MNIST) from the IDX files, gzip-compressed or not.
//!
//! An IDX file is a 4-byte magic number (two zero bytes, the element type — `0x08`
//! for unsigned bytes — and the number of dimensions), one big-endian `u32` per
//! dimension, then the elements. Images are `count × rows × cols` bytes, labels `count`
//! bytes.
//!
//! Every check names the file: wrong magic number, impossible dimensions, a file
//! shorter or longer than its header says, corrupt compression, labels outside 0–9,
//! image and label files that disagree. Buffers never grow past what the file can
//! hold, whatever its header claims.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// The magic number of an IDX file of unsigned bytes with three dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of unsigned bytes with one dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The number of classes (digits 0–9, or Fashion-MNIST's ten kinds of clothing).
pub const CLASSES: usize = 10;

/// The standard file names, without `.gz`: training images and labels, test images
/// and labels.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// See [`TRAIN_IMAGES`].
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// See [`TRAIN_IMAGES`].
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// See [`TRAIN_IMAGES`].
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// The most images or labels a file may hold: MNIST has 60,000 and 10,000, EMNIST's
/// largest split 240,000.
pub const MAX_COUNT: usize = 300_000;

/// The most pixels one image may have (MNIST's are 28×28).
pub const MAX_IMAGE_PIXELS: usize = 256 * 256;

/// The most bytes reserved ahead of the data: past this, buffers grow only as the
/// data actually arrives.
const MAX_RESERVE: usize = 16 << 20;

/// The deflate format's largest compression ratio (a little over 1032:1); a gzip file
/// cannot hold more than this many bytes per compressed byte.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// A problem with an MNIST file, naming the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct MnistError {
    /// The file (or folder) at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl MnistError {
    fn new(path: &Path, problem: impl Into<String>) -> Self {
        MnistError {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

/// Images as read from an IDX file: `count` images of `rows × cols` bytes, row-major,
/// one after the other.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    /// The number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// Every pixel, 0 (background) to 255, image after image.
    pub pixels: Vec<u8>,
}

/// Images with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// Every pixel, 0 to 255, image after image.
    pub pixels: Vec<u8>,
    /// One label (0–9) per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn image_size(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`'s pixels.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_size();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The images at `indices` (in that order, repeats allowed), as a new set.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_size());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Dataset {
            rows: self.rows,
            cols: self.cols,
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// Splits off every `every`-th image (indices `every − 1`, `2·every − 1`, ...) as
    /// a held-out set: `(rest, held_out)`.
    ///
    /// Interleaving rather than cutting keeps both parts drawn from the whole file (the
    /// MNIST test set's first and second halves come from different writers).
    pub fn split_every(&self, every: usize) -> (Dataset, Dataset) {
        let every = every.max(2);
        let (held, kept): (Vec<usize>, Vec<usize>) =
            (0..self.len()).partition(|i| i % every == every - 1);
        (self.select(&kept), self.select(&held))
    }

    /// Writes the images at `indices` into `x` (one row of [`image_size`] values per
    /// image) scaled to [0, 1] as the book's `normalize=True` does, and their labels
    /// into `labels`.
    ///
    /// [`image_size`]: Dataset::image_size
    pub fn gather<F: optimist::Float>(
        &self,
        indices: &[usize],
        x: &mut Vec<F>,
        labels: &mut Vec<u8>,
    ) {
        let n = self.image_size();
        x.clear();
        x.reserve(indices.len() * n);
        labels.clear();
        let scale = 1.0 / 255.0;
        for &i in indices {
            x.extend(
                self.image(i)
                    .iter()
                    .map(|&p| F::from_f64(f64::from(p) * scale)),
            );
            labels.push(self.labels[i]);
        }
    }
}

/// MNIST as found in a folder: the test set, and the training set when present.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// The 60,000 training images, if their files are there.
    pub train: Option<Dataset>,
    /// The 10,000 test images.
    pub test: Dataset,
}

/// Reads the MNIST files in `dir`: the test set (required) and the training set (when
/// both of its files are there). Each file may be gzip-compressed (`NAME.gz`, looked
/// for first) or not (`NAME`).
pub fn load(dir: &Path) -> Result<Mnist, MnistError> {
    // The first of NAME.gz and NAME there; anything else than a file under either name
    // is an error saying what it is.
    let find = |name: &str| -> Result<Option<PathBuf>, MnistError> {
        for path in [format!("{name}.gz"), name.to_string()].map(|n| dir.join(n)) {
            if std::fs::symlink_metadata(&path).is_err() {
                continue;
            }
            if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                return Ok(Some(path));
            }
            let what = what_is(&path);
            return Err(MnistError::new(&path, format!("{what}, not a file")));
        }
        Ok(None)
    };
    if !std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
        let problem = match std::fs::symlink_metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such folder".to_string(),
            _ => format!("{}, not a folder", what_is(dir)),
        };
        return Err(MnistError::new(dir, problem));
    }
    let test_images = find(TEST_IMAGES)?.ok_or_else(|| {
        MnistError::new(
            dir,
            format!("the MNIST test images ({TEST_IMAGES}.gz) are not in this folder"),
        )
    })?;
    let test_labels = find(TEST_LABELS)?.ok_or_else(|| {
        MnistError::new(
            dir,
            format!("the MNIST test labels ({TEST_LABELS}.gz) are not in this folder"),
        )
    })?;
    let test = read_set(&test_images, &test_labels)?;
    let train = match (find(TRAIN_IMAGES)?, find(TRAIN_LABELS)?) {
        (Some(images), Some(labels)) => Some(read_set(&images, &labels)?),
        (None, None) => None,
        (Some(images), None) => {
            return Err(MnistError::new(
                &images,
                format!("found, but its labels ({TRAIN_LABELS}.gz) are missing"),
            ))
        }
        (None, Some(labels)) => {
            return Err(MnistError::new(
                &labels,
                format!("found, but its images ({TRAIN_IMAGES}.gz) are missing"),
            ))
        }
    };
    if let Some(train) = &train {
        if (train.rows, train.cols) != (test.rows, test.cols) {
            return Err(MnistError::new(
                dir,
                format!(
                    "the training images are {}×{} but the test images are {}×{}",
                    train.rows, train.cols, test.rows, test.cols
                ),
            ));
        }
    }
    Ok(Mnist { train, test })
}

/// What is at `path`, in words, for a message: "a file", "a link to X, which does not
/// exist", "a link that loops", "a named pipe (FIFO)", ...
pub fn what_is(path: &Path) -> String {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return "nothing".into();
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        return match std::fs::metadata(path) {
            Ok(m) => format!("a link to {target}, which is {}", kind(&m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                format!("a link to {target}, which does not exist")
            }
            // ELOOP: too many levels of links.
            Err(e) if e.raw_os_error() == Some(40) || e.raw_os_error() == Some(62) => {
                "a link that loops (it leads back to itself)".into()
            }
            Err(e) => format!("a link that cannot be followed ({e})"),
        };
    }
    kind(&meta)
}

/// A file type in words.
fn kind(meta: &std::fs::Metadata) -> String {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder".into();
    }
    if t.is_file() {
        return "a file".into();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)".into();
        }
        if t.is_socket() {
            return "a socket".into();
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device".into();
        }
    }
    "neither a file nor a folder".into()
}

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
