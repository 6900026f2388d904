//! The podbrief home: where everything podbrief keeps lives (models, cached transcripts), and the
//! one way files get written there — atomically, so that a crash or a full disk never leaves a
//! half-written file that a later run would trust.

pub mod library;
pub mod transcripts;

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Paths of the podbrief home, resolved once from the environment.
#[derive(Debug, Clone)]
pub struct Home {
    pub root: PathBuf,
    pub models: PathBuf,
}

impl Home {
    /// `$PODBRIEF_HOME`, else the XDG cache dir (`~/.cache/podbrief`); models in
    /// `$PODBRIEF_MODELS`, else `$PODBRIEF_HOME/models`.
    pub fn from_env() -> Home {
        let root = std::env::var_os("PODBRIEF_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("podbrief")))
            .unwrap_or_else(|| PathBuf::from(".podbrief"));
        let models = std::env::var_os("PODBRIEF_MODELS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("models"));
        Home { root, models }
    }

    pub fn transcripts(&self) -> PathBuf {
        self.root.join("transcripts")
    }

    /// The SQLite database of subscribed feeds, their episodes and the briefs already sent.
    pub fn library_db(&self) -> PathBuf {
        self.root.join("library.sqlite3")
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file in the folder of `path` (created if needed), so that `persist` is a rename
/// on the same file system.
pub fn temp_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".part").tempfile_in(dir)
}

/// Hex SHA-256 of bytes in memory (a transcript file's identity, like an audio file's).
pub fn sha256_bytes(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Streams a file through SHA-256; `on_bytes` sees each block so callers can show progress.
pub fn sha256_file(path: &Path, on_bytes: &mut dyn FnMut(u64)) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        on_bytes(n as u64);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn sha256_matches_known_vector() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let mut seen = 0;
        let digest = sha256_file(&path, &mut |n| seen += n).unwrap();
        assert_eq!(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(seen, 3);
    }
}
