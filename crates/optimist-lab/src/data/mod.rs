//! The data the network experiment reads: MNIST's IDX files, and downloading them.

pub mod download;
pub mod mnist;
