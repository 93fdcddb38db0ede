//! # accesslink-opsgenie (work in progress)
