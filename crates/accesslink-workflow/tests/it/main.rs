//! Integration tests of the workflow over in-memory test doubles.

mod audit;
mod automated;
mod double;
mod fulfil;
mod gate;
mod template;
