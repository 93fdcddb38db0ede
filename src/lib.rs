pub use accesslink_core::*;
