//! Every integration test of `optimist-lab` in one binary: one link and one copy of the
//! library's generic code instead of one per file. Each file is a module, named as
//! before (`cargo test -p optimist-lab --test suite <file>::`).

mod bench;
mod download;
mod figure;
mod gif;
mod html_browser;
mod image;
mod mirror;
mod mnist_data;
mod mnist_reader;
mod network;
mod readable;
mod train_experiment;
mod views;
