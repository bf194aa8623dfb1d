//! # optimist-lab
//!
//! The experiments around the [`optimist`] optimizers: landscapes to race on, races
//! that record every position, and their outputs (CSV, figures).

#![warn(missing_docs)]

pub mod landscape;
pub mod output;
pub mod race;
