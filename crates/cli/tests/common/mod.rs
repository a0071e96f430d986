//! Shared by the tests that run `quire serve` as a real process: starting it
//! with a clean environment and reading the address from its first line.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts `quire serve` with none of the `QUIRE_*` variables inherited,
/// after `configure` has added flags and environment, and returns it with
/// the address of its `listening on http://ADDR` line.
pub fn spawn_serve(configure: impl FnOnce(&mut Command)) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quire"));
    cmd.arg("serve")
        .env_remove("QUIRE_LISTEN")
        .env_remove("QUIRE_DATA")
        .env_remove("QUIRE_DATABASE_URL")
        .env_remove("QUIRE_JWT_SECRET")
        .env_remove("QUIRE_WEB_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    configure(&mut cmd);
    let mut child = cmd.spawn().expect("cannot start quire serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, addr)
}
