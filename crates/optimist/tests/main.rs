//! Every integration test of `optimist` in one binary: one link and one copy of the
//! library's generic code instead of one per file. Each file is a module, named as
//! before (`cargo test -p optimist --test suite <file>::`).

mod engine;
mod groups;
mod named_state;
mod nonfinite;
mod params;
mod properties;
mod reference;
mod saved;
