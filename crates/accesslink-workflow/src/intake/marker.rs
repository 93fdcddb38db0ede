//! The intake's markers: lines in the comments it writes, read back with
//! `list_comments`, which keep its state in the ticket itself.
//!
//! Every comment the intake writes has a line `accesslink-intake: <what> <request id>`
//! (and, for comments that report an error, a fingerprint of the message, so the same
//! error is commented once and a different one again). Only markers in **internal**
//! comments count: a requester who can only write public comments cannot forge one.

use accesslink_core::{RequestId, TicketComment, Visibility};

/// What starts every marker line.
pub const MARKER_PREFIX: &str = "accesslink-intake:";

/// What a marker records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// The request was provisioned; closing is all that is left.
    Provisioned,
    /// The ticket could not be mapped (with the error's fingerprint).
    MappingFailed,
    /// The request breaks an SoD rule (with the conflict's fingerprint).
    Conflict,
    /// Provisioning failed for good (with the error's fingerprint).
    Failed,
    /// A comment from the identity product, posted by the intake: never synced back.
    FromIam,
}

impl Mark {
    fn word(self) -> &'static str {
        match self {
            Mark::Provisioned => "provisioned",
            Mark::MappingFailed => "mapping-failed",
            Mark::Conflict => "sod-conflict",
            Mark::Failed => "provisioning-failed",
            Mark::FromIam => "from-iam",
        }
    }
}

/// The marker line: `accesslink-intake: provisioned intake:otrs:42` (plus ` <fp>`).
pub(crate) fn line(mark: Mark, id: &RequestId, fingerprint: Option<&str>) -> String {
    match fingerprint {
        Some(fp) => format!("{MARKER_PREFIX} {} {id} {fp}", mark.word()),
        None => format!("{MARKER_PREFIX} {} {id}", mark.word()),
    }
}

/// Whether a comment carries any intake marker (it is the intake's own).
pub(crate) fn is_own(c: &TicketComment) -> bool {
    c.body
        .lines()
        .any(|l| l.trim_start().starts_with(MARKER_PREFIX))
}

/// Whether an internal comment carries exactly this marker line.
pub(crate) fn has(
    comments: &[TicketComment],
    mark: Mark,
    id: &RequestId,
    fingerprint: Option<&str>,
) -> bool {
    let want = line(mark, id, fingerprint);
    comments
        .iter()
        .filter(|c| c.visibility == Visibility::Internal)
        .any(|c| c.body.lines().any(|l| l.trim() == want))
}

/// A short, stable fingerprint of a message (FNV-1a, 64 bits, as 16 hex digits):
/// stable across builds and platforms, unlike the standard library's hasher.
pub(crate) fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_count_only_whole_lines_of_internal_comments() {
        let id = RequestId::new("intake:otrs:4");
        let body = format!("{}\ngrant role x", line(Mark::Provisioned, &id, None));
        let internal = TicketComment::new("1", Visibility::Internal, body.clone());
        let public = TicketComment::new("2", Visibility::Public, body);
        assert!(has(
            std::slice::from_ref(&internal),
            Mark::Provisioned,
            &id,
            None
        ));
        assert!(
            !has(std::slice::from_ref(&public), Mark::Provisioned, &id, None),
            "forged"
        );
        assert!(is_own(&public));
        // `intake:otrs:4` is not `intake:otrs:42`.
        let other = RequestId::new("intake:otrs:42");
        assert!(!has(&[internal], Mark::Provisioned, &other, None));
    }

    #[test]
    fn fingerprints_are_fnv1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
        assert_eq!(fingerprint("foobar"), "85944171f73967e8");
    }
}
