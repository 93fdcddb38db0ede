//! Record ids and ticket numbers, checked before any request.
//!
//! A Salesforce id is 15 characters (case-sensitive) or 18 (the 15 plus a 3-character
//! suffix that encodes the case of the first 15, so the 18-character form is
//! case-insensitive). [`SfId::parse`] accepts both, checks the suffix of an 18-character
//! id (and restores the case it encodes), and keeps the canonical 18-character form.
//! Ticket numbers (`CaseNumber`, Remedyforce `Name`) are 1-20 ASCII digits
//! ([`parse_number`]). Anything else is refused.

use std::fmt;

use accesslink_core::{Error, Result};

const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A checked Salesforce record id, in its 18-character form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SfId(String);

fn suffix_of(id15: &[u8]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk, o) in id15.chunks(5).zip(out.iter_mut()) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        *o = SUFFIX[bits];
    }
    out
}

impl SfId {
    /// Checks a 15- or 18-character id. A 15-character id is taken as typed (its case
    /// matters); an 18-character id has its case restored from its suffix, and a suffix
    /// that marks a digit as upper case, or characters outside the suffix alphabet, is
    /// refused.
    pub fn parse(raw: &str) -> Result<SfId> {
        let bad = || Error::invalid_input("not a Salesforce id (15 or 18 letters and digits)");
        let b = raw.as_bytes();
        if !(b.len() == 15 || b.len() == 18) || !b.iter().all(u8::is_ascii_alphanumeric) {
            return Err(bad());
        }
        if b.len() == 15 {
            let s = suffix_of(b);
            let mut out = raw.to_owned();
            out.push_str(std::str::from_utf8(&s).map_err(|_| bad())?);
            return Ok(SfId(out));
        }
        let mut id15: Vec<u8> = b[..15].to_vec();
        for (n, c) in b[15..].iter().enumerate() {
            let up = c.to_ascii_uppercase();
            let bits = SUFFIX.iter().position(|s| *s == up).ok_or_else(|| {
                Error::invalid_input("not a Salesforce id: the 18-character checksum is invalid")
            })?;
            for i in 0..5 {
                let ch = &mut id15[n * 5 + i];
                let upper = bits & (1 << i) != 0;
                if upper && ch.is_ascii_digit() {
                    return Err(Error::invalid_input(
                        "not a Salesforce id: the 18-character checksum is invalid",
                    ));
                }
                *ch = if upper {
                    ch.to_ascii_uppercase()
                } else {
                    ch.to_ascii_lowercase()
                };
            }
        }
        let suffix = suffix_of(&id15);
        let mut out = String::from_utf8(id15).map_err(|_| bad())?;
        out.push_str(std::str::from_utf8(&suffix).map_err(|_| bad())?);
        Ok(SfId(out))
    }

    /// The 18-character id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 15-character (case-sensitive) id.
    pub fn short(&self) -> &str {
        &self.0[..15]
    }

    /// The three-character key prefix naming the object (`500` Case, `005` User).
    pub fn prefix(&self) -> &str {
        &self.0[..3]
    }
}

impl fmt::Display for SfId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a ticket number (`CaseNumber` such as `00001026`, a Remedyforce `Name`): 1-20
/// ASCII digits.
pub fn parse_number(raw: &str) -> Result<String> {
    if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_input(
            "not a ticket number (1-20 digits, such as 00001026)",
        ));
    }
    Ok(raw.to_owned())
}

/// A ticket reference as typed: a record id or a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordRef {
    /// A 15/18-character id.
    Id(SfId),
    /// A `CaseNumber` / `Name`.
    Number(String),
}

impl RecordRef {
    /// A number when all digits, else an id; anything else refused. Surrounding
    /// spaces are trimmed.
    pub fn parse(raw: &str) -> Result<RecordRef> {
        let t = raw.trim();
        // Ids always carry letters in practice (key prefix and pod): digits only is a
        // number.
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return parse_number(t).map(RecordRef::Number);
        }
        SfId::parse(t).map(RecordRef::Id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_the_fact_sheet() {
        // The fact sheet's example case id, and its 15-character form.
        let id = SfId::parse("5005e00000A1b2CAAR").unwrap();
        assert_eq!(id.as_str(), "5005e00000A1b2CAAR");
        assert_eq!(SfId::parse("5005e00000A1b2C").unwrap(), id);
        // 18 characters are case-insensitive: the suffix restores the case.
        assert_eq!(SfId::parse("5005E00000A1B2CAAR").unwrap(), id);
        assert_eq!(SfId::parse("5005e00000a1b2caar").unwrap(), id);
        assert_eq!(id.prefix(), "500");
        assert_eq!(
            SfId::parse("0055e000001AbCdAAK").unwrap().as_str(),
            "0055e000001AbCdAAK"
        );
    }

    #[test]
    fn bad_ids_are_refused() {
        for bad in [
            "",
            "5005e00000A1b2",
            "5005e00000A1b2CA",
            "5005e00000A1b2CAAR1",
            "5005e00000A1b2C'R",
            "5005e00000A1b2C A",
            // A suffix marking the digit '5' upper case.
            "5005e00000A1b2CBAR",
            "5005e00000A1b2C!!!",
            "５005e00000A1b2C",
        ] {
            assert!(SfId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn numbers_and_refs() {
        assert_eq!(
            RecordRef::parse("00001026").unwrap(),
            RecordRef::Number("00001026".into())
        );
        assert!(matches!(
            RecordRef::parse("5005e00000A1b2CAAR").unwrap(),
            RecordRef::Id(_)
        ));
        for bad in [
            "",
            "0001' OR 'a'='a",
            "12 34",
            "١٢٣",
            "1e5",
            "+1",
            "00001026;",
        ] {
            assert!(RecordRef::parse(bad).is_err(), "{bad:?}");
        }
    }
}
