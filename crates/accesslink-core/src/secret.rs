//! Secrets in configuration: a reference to where the value lives, resolved when the
//! connector is built.
//!
//! A settings file names a secret three ways:
//!
//! ```toml
//! password = { env = "SN_PASSWORD" }          # an environment variable
//! password = { file = "/run/secrets/sn-pw" }  # a file (one trailing newline dropped)
//! password = "inline-value"                   # accepted, never printed
//! ```
//!
//! The value is read by [`SecretSource::resolve`], which the connectors' `from_settings`
//! call before any request, so a missing variable or file is a configuration error at
//! start-up that names the variable or path, never the value.

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::redact::REDACTED;

/// Where a secret's value comes from.
#[derive(Clone)]
#[non_exhaustive]
pub enum SecretSource {
    /// An environment variable, read when the connector is built.
    Env(String),
    /// A file, read when the connector is built; one trailing newline is dropped.
    File(PathBuf),
    /// The value itself. Accepted for tests and programmatic use; it is never printed
    /// and serialises as `[redacted]`.
    Inline(SecretString),
}

impl SecretSource {
    /// A secret read from the environment variable `name`.
    pub fn env(name: impl Into<String>) -> Self {
        SecretSource::Env(name.into())
    }

    /// A secret read from the file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SecretSource::File(path.into())
    }

    /// Reads the value. A missing variable, an unreadable file or an empty value is
    /// an [`ErrorKind::Config`](crate::ErrorKind::Config) error naming `what` and where
    /// it was looked for, never the value.
    pub fn resolve(&self, what: &str) -> Result<SecretString> {
        let value = match self {
            SecretSource::Env(name) => std::env::var(name)
                .map_err(|e| Error::config(format!("{what}: environment variable {name}: {e}")))?,
            SecretSource::File(path) => {
                let mut text = std::fs::read_to_string(path)
                    .map_err(|e| Error::config(format!("{what}: file {}: {e}", path.display())))?;
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                text
            }
            SecretSource::Inline(s) => {
                if s.expose_secret().is_empty() {
                    return Err(Error::config(format!("{what}: the value is empty")));
                }
                return Ok(s.clone());
            }
        };
        if value.is_empty() {
            return Err(Error::config(format!("{what}: {self:?} is empty")));
        }
        Ok(SecretString::from(value))
    }
}

impl From<SecretString> for SecretSource {
    fn from(s: SecretString) -> Self {
        SecretSource::Inline(s)
    }
}

impl From<&SecretString> for SecretSource {
    fn from(s: &SecretString) -> Self {
        SecretSource::Inline(s.clone())
    }
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env {name}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
            SecretSource::Inline(_) => f.write_str(REDACTED),
        }
    }
}

impl PartialEq for SecretSource {
    /// Inline values compare equal to each other whatever they hold: the comparison is
    /// for settings, and must not become a way to probe a secret.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SecretSource::Env(a), SecretSource::Env(b)) => a == b,
            (SecretSource::File(a), SecretSource::File(b)) => a == b,
            (SecretSource::Inline(_), SecretSource::Inline(_)) => true,
            _ => false,
        }
    }
}

impl Serialize for SecretSource {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            SecretSource::Env(name) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("env", name)?;
                m.end()
            }
            SecretSource::File(path) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("file", path)?;
                m.end()
            }
            SecretSource::Inline(_) => s.serialize_str(REDACTED),
        }
    }
}

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SecretSource;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a secret: { env = "NAME" }, { file = "path" } or a string"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<SecretSource, E> {
                Ok(SecretSource::Inline(SecretString::from(v)))
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<SecretSource, A::Error> {
                let mut found: Option<SecretSource> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "env" => SecretSource::Env(map.next_value()?),
                        "file" => SecretSource::File(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, &["env", "file"])),
                    };
                    if found.replace(value).is_some() {
                        return Err(de::Error::custom(
                            "a secret takes exactly one of `env` and `file`",
                        ));
                    }
                }
                found.ok_or_else(|| de::Error::custom("a secret needs `env` or `file`"))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for SecretSource {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretSource".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A secret: read from an environment variable, read from a file, or given inline (never printed).",
            "oneOf": [
                {
                    "type": "object",
                    "properties": { "env": { "type": "string", "description": "Environment variable holding the value." } },
                    "required": ["env"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": { "file": { "type": "string", "description": "File holding the value (one trailing newline dropped)." } },
                    "required": ["file"],
                    "additionalProperties": false
                },
                { "type": "string", "writeOnly": true, "description": "The value itself." }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        secret: SecretSource,
    }

    fn parse(json: &str) -> std::result::Result<SecretSource, String> {
        serde_json::from_str::<Holder>(json)
            .map(|h| h.secret)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn three_forms() {
        assert_eq!(
            parse(r#"{"secret": {"env": "X_PW"}}"#).unwrap(),
            SecretSource::env("X_PW")
        );
        assert_eq!(
            parse(r#"{"secret": {"file": "/run/pw"}}"#).unwrap(),
            SecretSource::file("/run/pw")
        );
        let inline = parse(r#"{"secret": "hunter2-canary"}"#).unwrap();
        assert_eq!(
            inline.resolve("pw").unwrap().expose_secret(),
            "hunter2-canary"
        );
        assert!(!format!("{inline:?}").contains("hunter2"));
        assert_eq!(serde_json::to_string(&inline).unwrap(), "\"[redacted]\"");
    }

    #[test]
    fn malformed_references_are_refused() {
        assert!(
            parse(r#"{"secret": {}}"#)
                .unwrap_err()
                .contains("`env` or `file`")
        );
        assert!(
            parse(r#"{"secret": {"env": "A", "file": "b"}}"#)
                .unwrap_err()
                .contains("exactly one")
        );
        assert!(
            parse(r#"{"secret": {"vault": "a"}}"#)
                .unwrap_err()
                .contains("vault")
        );
        assert!(parse(r#"{"secret": 7}"#).is_err());
    }

    #[test]
    fn resolve_names_the_source_not_the_value() {
        let e = SecretSource::env("ACCESSLINK_TEST_SURELY_UNSET_VAR")
            .resolve("servicenow password")
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        let text = e.to_string();
        assert!(
            text.contains("ACCESSLINK_TEST_SURELY_UNSET_VAR")
                && text.contains("servicenow password"),
            "{text}"
        );

        let dir = std::env::temp_dir().join(format!("accesslink-secret-{}", std::process::id()));
        std::fs::write(&dir, "from-file-canary\n").unwrap();
        let v = SecretSource::file(&dir).resolve("pw").unwrap();
        assert_eq!(v.expose_secret(), "from-file-canary");
        std::fs::write(&dir, "").unwrap();
        let e = SecretSource::file(&dir).resolve("pw").unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        std::fs::remove_file(&dir).unwrap();
        let e = SecretSource::file(&dir).resolve("pw").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(
            SecretSource::Inline(SecretString::from(""))
                .resolve("pw")
                .is_err()
        );
    }
}

/// A password an account is created with or set to: a [`SecretString`] that can sit
/// in a cloneable, comparable request (such as [`AccountSpec`](crate::AccountSpec))
/// and never prints, serialises or logs its value.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// The secret, for the one place that sends it.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl From<SecretString> for Password {
    fn from(s: SecretString) -> Self {
        Password(s)
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Self {
        Password(SecretString::from(s))
    }
}

impl From<String> for Password {
    fn from(s: String) -> Self {
        Password(SecretString::from(s))
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}
