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
//!
//! - [`dataset`]: the types (images, labels, the four standard files), errors, and
//!   what is at a path, for them;
//! - [`idx`]: reading one IDX file or a pair, with every check;
//! - [`folder`]: loading the standard files from a folder.

pub mod dataset;
pub mod folder;
pub mod idx;

pub use self::dataset::{
    what_is, Dataset, Images, Mnist, MnistError, CLASSES, IMAGES_MAGIC, LABELS_MAGIC, MAX_COUNT,
    MAX_IMAGE_PIXELS, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
};
pub use self::folder::load;
pub use self::idx::{read_images, read_labels, read_set};
