//! Measuring helpers shared by the benchmark examples (`mod bench;` in each).

// Each benchmark uses the part of this it needs.
#![allow(dead_code)]

use std::time::Duration;

/// The middle of the rounds (the upper one of the two for an even count).
pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The process's peak resident memory (`VmHWM` in `/proc/self/status`) in MiB; NaN
/// where that file does not exist.
pub(crate) fn peak_memory_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
