//! # optimist-lab
//!
//! The experiments around the [`optimist`] optimizers: landscapes to race on, races
//! that record every position, and their outputs (CSV, figures).

#![warn(missing_docs)]

pub mod bench;
pub mod download;
pub mod figure;
pub mod formula;
pub mod landscape;
pub mod mnist;
pub mod network;
pub mod output;
pub mod race;
pub mod rng;
pub mod text;
pub mod train;
pub mod train_figure;
pub mod tune;
