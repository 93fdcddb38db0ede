//! Secrets a connector was configured with never show in its output.

use std::fmt::Write as _;

use accesslink_core::Connector;

use super::cx::Cx;
use super::{Check, ConformanceFailure};

/// None of `canaries` (secret values a connector was configured with) appears in
/// `output` (its `Debug`, a log capture, an error message), as is or percent-encoded.
/// The failure says where, with the secret masked, never the secret itself.
pub fn secrets_never_printed(output: &str, canaries: &[&str]) -> Result<(), ConformanceFailure> {
    let cx = Cx(Check::SecretsNeverPrinted);
    let forms: Vec<(usize, &str, String)> = canaries
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            let encoded: String = url::form_urlencoded::byte_serialize(c.as_bytes()).collect();
            [
                (i, "as is", (*c).to_owned()),
                (i, "percent-encoded", encoded),
            ]
        })
        .collect();
    for (i, c) in canaries.iter().enumerate() {
        let len = c.chars().count();
        cx.ensure(
            len >= 4,
            &format!("canary #{i}"),
            "at least 4 characters (a shorter one matches by chance)",
            || format!("{len}"),
        )?;
    }
    let mut masked = output.to_owned();
    for (i, _, needle) in &forms {
        masked = masked.replace(needle.as_str(), &format!("[canary #{i}]"));
    }
    for (i, form, needle) in &forms {
        if let Some(at) = output.find(needle.as_str()) {
            let mark = format!("[canary #{i}]");
            let pos = masked.find(&mark).unwrap_or(0);
            return Err(cx.fail(
                &format!("canary #{i} ({} characters)", canaries[*i].chars().count()),
                "absent from the output",
                format!("{form} at byte {at}: …{}…", window(&masked, pos, 40)),
            ));
        }
    }
    Ok(())
}

/// Up to `radius` bytes either side of `at`, on character boundaries.
fn window(s: &str, at: usize, radius: usize) -> &str {
    let mut start = at.saturating_sub(radius);
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + radius).min(s.len());
    while !s.is_char_boundary(end) {
        end += 1;
    }
    &s[start..end]
}

/// The secrets check of a suite: the connector's `Debug`, plain and pretty.
pub(super) fn secrets_of(c: &dyn Connector, canaries: &[String]) -> Result<(), ConformanceFailure> {
    let mut output = String::new();
    let _ = write!(output, "{c:?}\n{c:#?}");
    let canaries: Vec<&str> = canaries.iter().map(String::as_str).collect();
    secrets_never_printed(&output, &canaries)
}
