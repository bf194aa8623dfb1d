//! MNIST's types: images and labels, the standard files' names, the limits a file is
//! held to, and what can go wrong.

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
pub(super) const MAX_RESERVE: usize = 16 << 20;

/// The deflate format's largest compression ratio (a little over 1032:1); a gzip file
/// cannot hold more than this many bytes per compressed byte.
pub(super) const MAX_DEFLATE_RATIO: u64 = 1032;

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
    pub(super) fn new(path: &Path, problem: impl Into<String>) -> Self {
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
