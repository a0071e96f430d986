//! A saved run setup (accounts and document ids), so that a later run joins the same documents,
//! for instance after the server was killed and restarted: `quire bench load --setup-file FILE`
//! saves the setup when FILE does not exist and reuses it when it does.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::rest::{Account, Rest};
use crate::load::LoadError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl From<&Account> for Credentials {
    fn from(account: &Account) -> Self {
        Self {
            username: account.username.clone(),
            password: account.password.clone(),
        }
    }
}

impl Credentials {
    pub async fn login(&self, rest: &Rest) -> Result<Account, LoadError> {
        rest.login(&self.username, &self.password).await
    }
}

/// Everything needed to join a previous run's documents again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSetup {
    pub owner: Credentials,
    pub writer: Credentials,
    pub reader: Credentials,
    pub docs: Vec<String>,
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> LoadError {
    LoadError::Protocol(format!("setup file {}: {e}", path.display()))
}

impl SavedSetup {
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
        serde_json::from_str(&text).map_err(|e| file_error(path, e))
    }

    pub fn write(&self, path: &Path) -> Result<(), LoadError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| file_error(path, e))?;
        std::fs::write(path, text).map_err(|e| file_error(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_file() {
        let setup = SavedSetup {
            owner: Credentials {
                username: "qbo".into(),
                password: "p1234567".into(),
            },
            writer: Credentials {
                username: "qbw".into(),
                password: "p1234567".into(),
            },
            reader: Credentials {
                username: "qbr".into(),
                password: "p1234567".into(),
            },
            docs: vec!["4a5b1d8e-0000-4000-8000-000000000000".into()],
        };
        let dir = std::env::temp_dir().join(format!("quire-bench-setup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("setup.json");
        setup.write(&path).unwrap();
        assert_eq!(SavedSetup::read(&path).unwrap(), setup);
        std::fs::write(&path, "{\"docs\": 3}").unwrap();
        assert!(SavedSetup::read(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
