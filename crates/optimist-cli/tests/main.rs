//! Every integration test of `optimist-cli` in one binary: one link and one copy of the
//! libraries' generic code instead of one per file. Each file is a module, named as
//! before (`cargo test -p optimist-cli --test suite <file>::`).

mod common;
#[path = "../../optimist-lab/tests/mirror/mod.rs"]
mod mirror;
#[path = "../../optimist-lab/tests/mnist_data/mod.rs"]
mod mnist_data;

mod bench;
mod compare;
mod data;
mod folders;
mod gif_html_views;
mod resources;
mod serve;
mod streams;
mod train;
mod tune;
mod views;
