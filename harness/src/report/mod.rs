//! Reports: one tree ([`tree`]), one sink per format.

pub mod tree;
