//! Reading a configuration file in TOML or JSON, with errors that name the path in the
//! document: what the gate's and the intake's configuration loaders share.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a configuration document could not be read into its type.
pub(crate) enum LoadError {
    /// The file could not be read.
    Read(PathBuf, std::io::Error),
    /// The document is malformed at a path (`desks.glpi.policies…`).
    Parse(String, String),
}

/// Parses a TOML document.
pub(crate) fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, LoadError> {
    let value: toml::Value = toml::from_str(text)
        .map_err(|e| LoadError::Parse("(document)".into(), e.message().to_owned()))?;
    serde_path_to_error::deserialize(value)
        .map_err(|e| LoadError::Parse(e.path().to_string(), e.inner().message().to_owned()))
}

/// Parses a JSON document.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, LoadError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de)
        .map_err(|e| LoadError::Parse(e.path().to_string(), e.inner().to_string()))
}

/// Reads a `.json` file as JSON and any other as TOML.
pub(crate) fn load<T: DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Read(path.to_owned(), e))?;
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => from_json(&text),
        _ => from_toml(&text),
    }
}
