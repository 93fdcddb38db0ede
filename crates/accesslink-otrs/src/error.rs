//! OTRS's error answers as core errors: `{"Error":{"ErrorCode","ErrorMessage"}}` bodies
//! (sent with HTTP 200 too), `*.AuthFail` as an expired session, and the 500 bodies of
//! failed operations (`faultstring` JSON or plain text).

use accesslink_core::ErrorKind;
use accesslink_core::http::{Response, VendorError};

use crate::models::{ErrorBody, FaultBody};

/// Whether a body starts like `{"Error":`: the cheap test before parsing it.
pub(crate) fn looks_like_error(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64)];
    head.windows(7).any(|w| w == b"\"Error\"")
}

/// `*.AuthFail` with HTTP 200 means the session is invalid or expired.
pub(crate) fn is_auth_fail(response: &Response) -> bool {
    looks_like_error(response.bytes())
        && serde_json::from_slice::<ErrorBody>(response.bytes())
            .ok()
            .and_then(|b| b.error.code)
            .is_some_and(|c| c.ends_with(".AuthFail"))
}

/// The error kind an OTRS error code stands for.
pub(crate) fn kind_of(code: &str) -> ErrorKind {
    match code.rsplit('.').next().unwrap_or(code) {
        "AuthFail" | "SessionInvalid" => ErrorKind::Unauthenticated,
        "AccessDenied" => ErrorKind::PermissionDenied,
        "InvalidParameter" | "MissingParameter" | "WrongStructure" | "EmptyRequest" => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Other,
    }
}

/// Every `{"Error":{…}}` body, whatever its status, and the 500 bodies of failed
/// operations (`faultstring` JSON or plain text), become vendor errors.
pub(crate) fn parse_error(response: &Response) -> Option<VendorError> {
    let body = response.bytes();
    if looks_like_error(body) {
        if let Ok(e) = serde_json::from_slice::<ErrorBody>(body) {
            let kind = e.error.code.as_deref().map(kind_of);
            let mut v = VendorError::new(e.error.code, e.error.message);
            v.kind = kind;
            return Some(v);
        }
    }
    if response.status().is_success() {
        return None;
    }
    if let Ok(f) = serde_json::from_slice::<FaultBody>(body) {
        if f.faultstring.is_some() {
            return Some(VendorError::new(f.faultcode, f.faultstring));
        }
    }
    let text = response.redacted_body(200);
    let first_line = text.lines().next().unwrap_or("").trim();
    (!first_line.is_empty()).then(|| VendorError::new(None, Some(first_line.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_kinds() {
        assert_eq!(kind_of("TicketGet.AuthFail"), ErrorKind::Unauthenticated);
        assert_eq!(
            kind_of("SessionGet.SessionInvalid"),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            kind_of("TicketGet.AccessDenied"),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            kind_of("TicketCreate.InvalidParameter"),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind_of("TicketCreate.MissingParameter"),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind_of("TicketGet.WrongStructure"), ErrorKind::InvalidInput);
        assert_eq!(kind_of("Webservice.InvalidConfiguration"), ErrorKind::Other);
    }

    #[test]
    fn error_sniffing() {
        assert!(looks_like_error(
            br#"{"Error":{"ErrorCode":"TicketGet.AuthFail"}}"#
        ));
        assert!(!looks_like_error(br#"{"Ticket":[{"Title":"an Error"}]}"#));
    }
}
