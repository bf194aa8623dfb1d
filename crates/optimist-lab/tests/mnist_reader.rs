//! The IDX reader: valid files read back exactly; every kind of bad file is an error
//! naming the file and the problem.

use crate::mnist_data;

use flate2::write::GzEncoder;
use flate2::Compression;
use mnist_data::mnist_dir;
use optimist_lab::data::mnist::{self, read_images, read_labels, read_set};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A fresh folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("optimist-mnist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(data);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Three 2×3 images and their labels.
fn small_set() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..18).map(|i| (i * 14) as u8).collect();
    (
        idx(mnist::IMAGES_MAGIC, &[3, 2, 3], &pixels),
        idx(mnist::LABELS_MAGIC, &[3], &[7, 0, 9]),
    )
}

fn error_text<T: std::fmt::Debug>(r: Result<T, mnist::MnistError>) -> String {
    r.expect_err("the file is bad").to_string()
}

#[test]
fn reads_gzip_and_plain_files_alike() {
    let dir = temp_dir("read");
    let (images, labels) = small_set();
    for (suffix, im, lb) in [
        ("", images.clone(), labels.clone()),
        (".gz", gzip(&images), gzip(&labels)),
    ] {
        let ip = write(&dir, &format!("im{suffix}"), &im);
        let lp = write(&dir, &format!("lb{suffix}"), &lb);
        let set = read_set(&ip, &lp).unwrap();
        assert_eq!((set.len(), set.rows, set.cols), (3, 2, 3));
        assert_eq!(set.labels, [7, 0, 9]);
        assert_eq!(set.image(1), &[84, 98, 112, 126, 140, 154]);
        let mut x = Vec::<f32>::new();
        let mut t = Vec::new();
        set.gather(&[2, 0], &mut x, &mut t);
        assert_eq!(t, [9, 7]);
        assert_eq!(x[0], 168.0 / 255.0);
        assert_eq!(x[6], 0.0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_files_are_errors_naming_file_and_problem() {
    let dir = temp_dir("bad");
    let (images, labels) = small_set();
    let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        // (name, bytes, is an image file, expected words)
        ("swapped", labels.clone(), true, "magic number 0x00000801 (an IDX label file)"),
        ("text", b"hello, world".to_vec(), true, "not an IDX file"),
        ("tiny", vec![0, 0], true, "too short for an IDX header"),
        ("short-dims", images[..9].to_vec(), true, "the header ends after 1 of its 3 dimensions"),
        ("cut", images[..images.len() - 1].to_vec(), true, "truncated: the header declares 3 images of 2×3 pixels (18 bytes) but the file holds only 17"),
        ("long", [images.clone(), vec![0]].concat(), true, "more data than the header declares"),
        ("zero-rows", idx(mnist::IMAGES_MAGIC, &[3, 0, 3], &[]), true, "images of 0×3 pixels"),
        ("label-12", idx(mnist::LABELS_MAGIC, &[3], &[1, 12, 3]), false, "label 12 at index 1 is not a class 0–9"),
        ("floats", idx(0x0000_0D03, &[1, 1, 1], &[0; 4]), true, "element type 0x0d"),
        (
            // Headers claiming more than any data set holds fail before any reading or
            // allocating (4 billion or 6 million images, 4 billion labels, images of
            // 4 billion pixels).
            "huge",
            idx(mnist::IMAGES_MAGIC, &[u32::MAX, 28, 28], &[0; 100]),
            true,
            "the header declares 4294967295 images; at most 300000 (MNIST has 60000 and 10000)",
        ),
        ("6m", idx(mnist::IMAGES_MAGIC, &[6_000_000, 28, 28], &[0; 100]), true, "the header declares 6000000 images; at most 300000"),
        ("huge-labels", idx(mnist::LABELS_MAGIC, &[u32::MAX], &[0; 10]), false, "the header declares 4294967295 labels; at most 300000"),
        ("wide", idx(mnist::IMAGES_MAGIC, &[1, 65_536, 65_536], &[0; 10]), true, "images of 65536×65536 pixels; at most 65536 pixels each"),
        (
            // Within the caps, a header that promises more than the file holds is
            // reported as truncated.
            "promises",
            idx(mnist::IMAGES_MAGIC, &[250_000, 28, 28], &[0; 1000]),
            true,
            "truncated: the header declares 250000 images of 28×28 pixels (196000000 bytes) but the file holds only 1000 bytes",
        ),
    ];
    for (name, bytes, is_images, expected) in cases {
        for (suffix, content) in [("", bytes.clone()), (".gz", gzip(&bytes))] {
            let path = write(&dir, &format!("{name}{suffix}"), &content);
            let e = if is_images {
                error_text(read_images(&path))
            } else {
                error_text(read_labels(&path))
            };
            assert!(e.starts_with(&path.display().to_string()), "{e}");
            assert!(e.contains(expected), "{name}{suffix}: {e}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_compression_is_an_error() {
    let dir = temp_dir("gz");
    let (images, _) = small_set();
    let gz = gzip(&images);
    // Cut inside the compressed stream.
    let p = write(&dir, "cut.gz", &gz[..gz.len() - 12]);
    let e = error_text(read_images(&p));
    assert!(e.contains("truncated"), "{e}");
    // A wrong CRC in the trailer.
    let mut bad = gz.clone();
    let n = bad.len();
    bad[n - 8] ^= 0xff;
    let p = write(&dir, "crc.gz", &bad);
    let e = error_text(read_images(&p));
    assert!(e.contains("corrupt gzip data"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mismatched_and_missing_files_are_errors() {
    let dir = temp_dir("sets");
    let (images, _) = small_set();
    let ip = write(&dir, "im", &images);
    let lp = write(&dir, "lb", &idx(mnist::LABELS_MAGIC, &[2], &[1, 2]));
    let e = error_text(read_set(&ip, &lp));
    assert!(
        e.contains("holds 2 labels but") && e.contains("holds 3 images"),
        "{e}"
    );

    let e = error_text(mnist::load(&dir.join("nowhere")));
    assert!(e.ends_with("nowhere: no such folder"), "{e}");
    let e = error_text(mnist::load(&dir));
    assert!(
        e.contains("t10k-images-idx3-ubyte.gz") && e.contains("not in this folder"),
        "{e}"
    );

    // A test set alone loads, without a training set.
    let (images, labels) = small_set();
    write(&dir, "t10k-images-idx3-ubyte.gz", &gzip(&images));
    write(&dir, "t10k-labels-idx1-ubyte", &labels);
    let m = mnist::load(&dir).unwrap();
    assert!(m.train.is_none());
    assert_eq!(m.test.len(), 3);
    // Training images without labels are an error, not silently ignored.
    write(&dir, "train-images-idx3-ubyte.gz", &gzip(&images));
    let e = error_text(mnist::load(&dir));
    assert!(
        e.contains("train-images-idx3-ubyte.gz: found, but its labels"),
        "{e}"
    );
    write(&dir, "train-labels-idx1-ubyte.gz", &gzip(&labels));
    assert_eq!(mnist::load(&dir).unwrap().train.unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn split_every_holds_out_every_fifth_image() {
    let pixels: Vec<u8> = (0..12).collect();
    let set = mnist::Dataset {
        rows: 1,
        cols: 1,
        pixels: pixels.clone(),
        labels: pixels.iter().map(|p| p % 10).collect(),
    };
    let (train, held) = set.split_every(5);
    assert_eq!(held.pixels, [4, 9]);
    assert_eq!(train.pixels, [0, 1, 2, 3, 5, 6, 7, 8, 10, 11]);
    assert_eq!(train.labels, [0, 1, 2, 3, 5, 6, 7, 8, 0, 1]);
}

#[test]
fn the_real_test_set_has_its_published_counts() {
    let dir = mnist_dir();
    let m = mnist::load(&dir).unwrap();
    let t = &m.test;
    assert_eq!((t.len(), t.rows, t.cols), (10_000, 28, 28));
    // The first test digit is a 7; per-digit counts as published with the set.
    assert_eq!(&t.labels[..5], &[7, 2, 1, 0, 4]);
    let mut counts = [0usize; 10];
    for &l in &t.labels {
        counts[l as usize] += 1;
    }
    assert_eq!(
        counts,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

/// A folder that is not one, and entries that are not files, are named for what they
/// are, not "no such folder" or "not in this folder".
#[cfg(unix)]
#[test]
fn entries_that_are_not_files_say_what_they_are() {
    use std::os::unix::fs::symlink;
    let dir = temp_dir("entries");
    let (images, labels) = small_set();
    let file = write(&dir, "a-file", &images);
    let e = error_text(mnist::load(&file));
    assert!(e.ends_with("a-file: a file, not a folder"), "{e}");
    symlink(dir.join("gone"), dir.join("dangling")).unwrap();
    let e = error_text(mnist::load(&dir.join("dangling")));
    assert!(e.contains("dangling: a link to "), "{e}");
    assert!(
        e.ends_with("gone, which does not exist, not a folder"),
        "{e}"
    );
    symlink(dir.join("loop"), dir.join("loop")).unwrap();
    let e = error_text(mnist::load(&dir.join("loop")));
    assert!(
        e.ends_with("loop: a link that loops (it leads back to itself), not a folder"),
        "{e}"
    );

    let set = dir.join("set");
    std::fs::create_dir(&set).unwrap();
    write(&set, "t10k-labels-idx1-ubyte", &labels);
    let fifo = set.join("t10k-images-idx3-ubyte.gz");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let e = error_text(mnist::load(&set));
    assert!(
        e.ends_with("t10k-images-idx3-ubyte.gz: a named pipe (FIFO), not a file"),
        "{e}"
    );
    // Read directly, a pipe is refused too, instead of waiting for a writer.
    let e = error_text(read_images(&fifo));
    assert!(e.ends_with("a named pipe (FIFO), not a file"), "{e}");
    std::fs::remove_file(&fifo).unwrap();
    symlink(set.join("nowhere.gz"), &fifo).unwrap();
    let e = error_text(mnist::load(&set));
    assert!(e.contains("t10k-images-idx3-ubyte.gz: a link to "), "{e}");
    assert!(
        e.ends_with("nowhere.gz, which does not exist, not a file"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
