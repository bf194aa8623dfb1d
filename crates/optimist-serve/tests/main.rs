//! Every integration test of `optimist-serve` in one binary: one link instead of one
//! per file. Each file is a module (`cargo test -p optimist-serve --test suite <file>::`).

mod api;
mod limits;
mod page_browser;
