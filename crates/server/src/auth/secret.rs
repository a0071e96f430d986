//! The HS256 signing secret: given by the operator, or generated once and kept
//! in the data directory so tokens survive restarts.
//!
//! The file is created atomically and exclusively: random bytes go to a private
//! temp file (mode 0600) which is fsynced and then hard-linked into place. A
//! hard link never replaces an existing file, so two servers starting at once
//! on one data directory end up with the same secret. The secret is never
//! logged (its `Debug` is redacted).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// File name of the generated secret inside the data directory.
pub const SECRET_FILE: &str = "jwt-secret";
/// Shortest secret accepted (HS256 wants at least 256 bits of key).
pub const MIN_SECRET_BYTES: usize = 32;
/// Length of a generated secret.
const GENERATED_SECRET_BYTES: usize = 64;

#[derive(Clone, PartialEq, Eq)]
pub struct JwtSecret(Vec<u8>);

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long")]
    TooShort,
    #[error(
        "the secret file {path} is not valid (expected base64 of at least {MIN_SECRET_BYTES} bytes)"
    )]
    Corrupt { path: PathBuf },
    #[error("could not read or write the secret file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

impl JwtSecret {
    /// A secret given by the operator (flag or `QUIRE_JWT_SECRET`).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort);
        }
        Ok(Self(bytes))
    }

    /// A fresh random secret (not persisted).
    pub fn random() -> Result<Self, SecretError> {
        let mut bytes = vec![0u8; GENERATED_SECRET_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads `dir/jwt-secret`, creating it (and `dir`) with a random secret if
    /// it does not exist yet.
    pub fn load_or_create(dir: &Path) -> Result<Self, SecretError> {
        let path = dir.join(SECRET_FILE);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SecretError::Io { path, source }
        };
        match fs::read_to_string(&path) {
            Ok(text) => return Self::decode_file(&path, &text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let secret = Self::random()?;
        let temp = dir.join(format!(".{SECRET_FILE}.{}.tmp", uuid::Uuid::new_v4()));
        let written = write_private(&temp, BASE64.encode(&secret.0).as_bytes())
            .and_then(|()| fs::hard_link(&temp, &path));
        let _ = fs::remove_file(&temp);
        match written {
            Ok(()) => {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io_err(dir))?;
                tracing::info!(path = %path.display(), "generated a new JWT secret");
                Ok(secret)
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let text = fs::read_to_string(&path).map_err(io_err(&path))?;
                Self::decode_file(&path, &text)
            }
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn decode_file(path: &Path, text: &str) -> Result<Self, SecretError> {
        let corrupt = || SecretError::Corrupt {
            path: path.to_path_buf(),
        };
        let bytes = BASE64.decode(text.trim()).map_err(|_| corrupt())?;
        Self::from_bytes(bytes).map_err(|_| corrupt())
    }
}

/// Creates `path` exclusively with mode 0600, writes `contents` and fsyncs it.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generated_secret_is_private_persistent_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let first = JwtSecret::load_or_create(&data).unwrap();
        let mode = fs::metadata(data.join(SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(first.as_bytes().len() >= MIN_SECRET_BYTES);
        let second = JwtSecret::load_or_create(&data).unwrap();
        assert_eq!(first, second);
        // No temp files are left behind.
        let names: Vec<_> = fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(SECRET_FILE)]);
    }

    #[test]
    fn short_and_corrupt_secrets_are_refused() {
        assert!(matches!(
            JwtSecret::from_bytes(vec![1; 31]),
            Err(SecretError::TooShort)
        ));
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SECRET_FILE), "not base64 !!").unwrap();
        assert!(matches!(
            JwtSecret::load_or_create(dir.path()),
            Err(SecretError::Corrupt { .. })
        ));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = JwtSecret::from_bytes(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        assert_eq!(format!("{s:?}"), "JwtSecret(<redacted>)");
    }
}
