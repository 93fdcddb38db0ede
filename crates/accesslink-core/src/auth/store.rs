//! Where a rotating refresh token lives between runs: the [`RefreshTokenStore`] an
//! embedder supplies (a vault), [`FileRefreshTokenStore`] (atomic replace) or
//! [`MemoryRefreshTokenStore`]. Connectors whose OAuth renewals return a new refresh
//! token (Jira Cloud 3LO, Zoho for ServiceDesk Plus Cloud) hand it to the store before
//! they forget the old one.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::redact;

/// Where the current refresh token lives between runs.
///
/// [`save`](Self::save) must replace the stored token durably before it returns: the
/// connector forgets the old token only after it succeeded.
pub trait RefreshTokenStore: Send + Sync + fmt::Debug {
    /// The stored refresh token, if any.
    fn load(&self) -> Result<Option<SecretString>>;
    /// Replaces the stored refresh token.
    fn save(&self, token: &SecretString) -> Result<()>;
}

/// A refresh token kept in memory only: it is lost when the process ends, so only for
/// tests and short-lived jobs that are handed a fresh token each time.
#[derive(Default)]
pub struct MemoryRefreshTokenStore {
    token: Mutex<Option<SecretString>>,
}

impl MemoryRefreshTokenStore {
    /// A store holding `initial`.
    pub fn new(initial: SecretString) -> Self {
        MemoryRefreshTokenStore {
            token: Mutex::new(Some(initial)),
        }
    }
}

impl fmt::Debug for MemoryRefreshTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self
            .token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("MemoryRefreshTokenStore")
            .field("token", &held.then_some(redact::REDACTED))
            .finish()
    }
}

impl RefreshTokenStore for MemoryRefreshTokenStore {
    fn load(&self) -> Result<Option<SecretString>> {
        Ok(self
            .token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    fn save(&self, token: &SecretString) -> Result<()> {
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        Ok(())
    }
}

/// A refresh token in a file (the token alone, one line), replaced atomically: the new
/// token is written to a temporary file beside it, flushed to disk, and renamed over the
/// old one, so a crash leaves either the old or the new token, never half of one. On Unix
/// the file is created readable by its owner only.
#[derive(Debug, Clone)]
pub struct FileRefreshTokenStore {
    path: PathBuf,
}

impl FileRefreshTokenStore {
    /// A store at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileRefreshTokenStore { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RefreshTokenStore for FileRefreshTokenStore {
    fn load(&self) -> Result<Option<SecretString>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => {
                let token = text.trim();
                Ok((!token.is_empty()).then(|| SecretString::from(token.to_owned())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::config(format!(
                "refresh token file {}: {e}",
                self.path.display()
            ))),
        }
    }

    fn save(&self, token: &SecretString) -> Result<()> {
        let fail = |e: std::io::Error| {
            Error::other(format!(
                "saving the refresh token to {}: {e}",
                self.path.display()
            ))
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "refresh-token".into());
        let tmp = self.path.with_file_name(format!(
            ".{name}.{}.{:08x}.tmp",
            std::process::id(),
            fastrand::u32(..)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = (|| {
            let mut file = options.open(&tmp)?;
            file.write_all(token.expose_secret().as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(e));
        }
        // The rename is durable once the directory is; best effort where it can be opened.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_replaces_the_token_atomically() {
        let dir = std::env::temp_dir().join(format!("accesslink-store-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let store = FileRefreshTokenStore::new(dir.join("rt"));
        assert!(store.load().unwrap().is_none());
        store.save(&SecretString::from("first".to_owned())).unwrap();
        store
            .save(&SecretString::from("second".to_owned()))
            .unwrap();
        assert_eq!(store.load().unwrap().unwrap().expose_secret(), "second");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["rt"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("rt"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
