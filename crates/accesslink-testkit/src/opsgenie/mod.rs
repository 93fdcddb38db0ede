//! Stateful mock of opsgenie (work in progress).
