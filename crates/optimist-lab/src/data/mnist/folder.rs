//! The standard files read from a folder, and what is at a path, for messages.

use super::dataset::{
    what_is, Mnist, MnistError, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
};
use super::idx::read_set;
use std::path::{Path, PathBuf};

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
