//! # accesslink-opsramp (work in progress)
