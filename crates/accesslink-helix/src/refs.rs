//! Ticket numbers: `INC`, `CRQ`, `WO` or `REQ` followed by digits, 15 characters in all
//! (`INC000000000123`, `WO0000000000001`), checked before any request. Shorter digit
//! runs are padded with zeros (`inc123` → `INC000000000123`).

use accesslink_core::{Error, Result, TicketKind};

/// What a number names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// `INC…` on the incident form.
    Incident,
    /// `CRQ…` on the change form.
    Change,
    /// `WO…` on the work order form.
    WorkOrder,
    /// `REQ…` on the service request form.
    Request,
}

impl Form {
    /// The number prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Form::Incident => "INC",
            Form::Change => "CRQ",
            Form::WorkOrder => "WO",
            Form::Request => "REQ",
        }
    }

    /// The scope of a [`TicketRef`](accesslink_core::TicketRef) and the status map key
    /// prefix (`incident`, `change`, `work_order`, `request`).
    pub fn scope(self) -> &'static str {
        match self {
            Form::Incident => "incident",
            Form::Change => "change",
            Form::WorkOrder => "work_order",
            Form::Request => "request",
        }
    }

    /// The core kind.
    pub fn kind(self) -> TicketKind {
        match self {
            Form::Incident => TicketKind::Incident,
            Form::Change => TicketKind::Change,
            Form::WorkOrder => TicketKind::Task,
            Form::Request => TicketKind::Request,
        }
    }

    /// Every form, longest prefix first.
    pub const ALL: [Form; 4] = [Form::Incident, Form::Change, Form::Request, Form::WorkOrder];
}

/// AR request ids are 15 characters.
pub const NUMBER_LEN: usize = 15;

/// A checked ticket number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketNumber {
    form: Form,
    number: String,
}

impl TicketNumber {
    /// Parses `INC000000000123` (any case, padded when short).
    pub fn parse(raw: &str) -> Result<TicketNumber> {
        let s = raw.trim();
        let bad = || {
            Error::invalid_input(format!(
                "{:?} is not a Helix ticket number (INC, CRQ, WO or REQ and digits)",
                accesslink_core::redact::truncate(s, 40)
            ))
        };
        if !s.is_ascii() {
            return Err(bad());
        }
        let upper = s.to_ascii_uppercase();
        let form = Form::ALL
            .into_iter()
            .find(|f| upper.starts_with(f.prefix()))
            .ok_or_else(bad)?;
        let digits = &upper[form.prefix().len()..];
        let width = NUMBER_LEN - form.prefix().len();
        if digits.is_empty()
            || digits.len() > width
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.bytes().all(|b| b == b'0')
        {
            return Err(bad());
        }
        Ok(TicketNumber {
            form,
            number: format!("{}{digits:0>width$}", form.prefix()),
        })
    }

    /// The form it names.
    pub fn form(&self) -> Form {
        self.form
    }

    /// The 15-character number.
    pub fn as_str(&self) -> &str {
        &self.number
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_and_padded() {
        let n = TicketNumber::parse(" inc123 ").unwrap();
        assert_eq!(n.as_str(), "INC000000000123");
        assert_eq!(n.form(), Form::Incident);
        assert_eq!(
            TicketNumber::parse("WO7").unwrap().as_str(),
            "WO0000000000007"
        );
        assert_eq!(
            TicketNumber::parse("CRQ000000000042").unwrap().form(),
            Form::Change
        );
        assert_eq!(TicketNumber::parse("REQ1").unwrap().form(), Form::Request);
        for bad in [
            "",
            "INC",
            "INC0000000000123",
            "INC12a",
            "PBI000000000001",
            "INC000000000000",
            "INC\"1",
            "123",
            "INC-123",
            "ÍNC1",
        ] {
            assert!(TicketNumber::parse(bad).is_err(), "{bad:?}");
        }
    }
}
