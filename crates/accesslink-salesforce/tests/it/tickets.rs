//! Own tests.
