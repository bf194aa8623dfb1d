//! The IDX reader (MNIST's files, gzip-compressed or not): any bytes read as images or
//! labels, or fail with an error naming the file, without a panic and without taking
//! more memory than the data holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optimist_lab::mnist;
use std::path::PathBuf;

fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    base.join(format!("optimist-fuzz-idx-{}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(&path, data).unwrap();
    match mnist::read_images(&path) {
        Ok(im) => assert_eq!(im.pixels.len(), im.count * im.rows * im.cols),
        Err(e) => assert!(e.to_string().starts_with(&path.display().to_string())),
    }
    match mnist::read_labels(&path) {
        Ok(labels) => assert!(labels.iter().all(|&l| usize::from(l) < mnist::CLASSES)),
        Err(e) => assert!(e.to_string().starts_with(&path.display().to_string())),
    }
});
