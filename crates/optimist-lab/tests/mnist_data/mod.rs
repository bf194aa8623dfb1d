//! The real MNIST test set, for the tests that read it (the lab's and the CLI's).

use std::path::{Path, PathBuf};

/// The real MNIST test files: the repository's `data/mnist`, or the folder
/// `OPTIMIST_MNIST_DIR` names. Missing files fail the test.
pub fn mnist_dir() -> PathBuf {
    let dir = match std::env::var_os("OPTIMIST_MNIST_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist"),
    };
    for file in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        assert!(
            dir.join(file).is_file(),
            "no MNIST test file {file} in {}",
            dir.display()
        );
    }
    dir
}
