//! Stateful mock of servicenow (work in progress).
