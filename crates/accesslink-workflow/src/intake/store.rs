//! Where the intake keeps each source's change-feed cursor between polls and restarts.

use std::collections::HashMap;
use std::fmt::Debug;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Stores one short text per key (the intake's state for one source: its change-feed
/// cursor, tickets to read again, comment ids already delivered).
///
/// Synchronous and object-safe (`Arc<dyn CursorStore>`): the values are small, and a
/// save happens once per source per poll, after the poll's tickets were processed.
pub trait CursorStore: Send + Sync + Debug {
    /// The value stored under `key`, `None` when nothing is.
    ///
    /// # Errors
    /// When the store cannot be read; the poll of that source is skipped.
    fn load(&self, key: &str) -> io::Result<Option<String>>;

    /// Replaces the value under `key`; a reader sees the old value or the new one,
    /// never a mix.
    ///
    /// # Errors
    /// When the value could not be stored.
    fn save(&self, key: &str, value: &str) -> io::Result<()>;
}

/// Keeps values in memory: for tests, and for embedders that persist elsewhere.
#[derive(Debug, Default)]
pub struct MemoryCursorStore {
    values: Mutex<HashMap<String, String>>,
}

impl MemoryCursorStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryCursorStore::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }
}

impl CursorStore for MemoryCursorStore {
    fn load(&self, key: &str) -> io::Result<Option<String>> {
        Ok(self.get(key))
    }

    fn save(&self, key: &str, value: &str) -> io::Result<()> {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

/// One file per key in a directory, written atomically: the new value goes to a
/// temporary file in the same directory, is synced to disk, and is renamed over the
/// old one (then the directory is synced, where the platform allows), so a crash
/// leaves the old value or the new one.
#[derive(Debug, Clone)]
pub struct FileCursorStore {
    dir: PathBuf,
}

impl FileCursorStore {
    /// A store in `dir`, created if missing.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        Ok(FileCursorStore { dir })
    }

    /// The file that holds `key`: its letters, digits, `-`, `_` and `.` kept, every
    /// other byte hex-escaped, so any key is one safe file name.
    pub fn path_of(&self, key: &str) -> PathBuf {
        let mut name = String::from("intake-");
        for b in key.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                name.push(char::from(b));
            } else {
                name.push_str(&format!("%{b:02x}"));
            }
        }
        name.push_str(".json");
        self.dir.join(name)
    }
}

impl CursorStore for FileCursorStore {
    fn load(&self, key: &str) -> io::Result<Option<String>> {
        match fs::read_to_string(self.path_of(key)) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn save(&self, key: &str, value: &str) -> io::Result<()> {
        let path = self.path_of(key);
        let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
        let written = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(value.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
            return written;
        }
        // Makes the rename itself durable; not every platform can open a directory.
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_replaces_values_and_escapes_keys() {
        let dir = std::env::temp_dir().join(format!("accesslink-cursor-{}", std::process::id()));
        let store = FileCursorStore::new(&dir).unwrap();
        assert_eq!(store.load("otrs/../x").unwrap(), None);
        store.save("otrs/../x", "one").unwrap();
        store.save("otrs/../x", "two").unwrap();
        assert_eq!(store.load("otrs/../x").unwrap().as_deref(), Some("two"));
        let path = store.path_of("otrs/../x");
        assert_eq!(path.parent(), Some(dir.as_path()), "stays in the directory");
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            "intake-otrs%2f%2e%2e%2fx.json"
        );
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left behind");
        fs::remove_dir_all(&dir).unwrap();
    }
}
