//! # optimist-lab
//!
//! The experiments around the [`optimist`] optimizers: landscapes to race on, races
//! that record every position, and their outputs (CSV, figures).

#![warn(missing_docs)]

pub mod bench;
pub mod budget;
pub mod data;
pub mod figure;
pub mod framing;
pub mod landscape;
pub mod network;
pub mod output;
pub mod race;
pub mod rng;
pub mod text;
pub mod train;
pub mod tune;
