//! Integration tests of the workflow over in-memory test doubles.

mod audit;
mod automated;
mod double;
mod fulfil;
mod gate;
mod gate_cache;
mod gate_decide;
mod gate_file;
mod gate_link;
mod gate_multi;
mod gate_scope;
mod intake;
mod intake_double;
mod template;
