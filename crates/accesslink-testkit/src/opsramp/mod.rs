//! Stateful mock of opsramp (work in progress).
