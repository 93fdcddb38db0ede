//! # accesslink-servicenow (work in progress)
