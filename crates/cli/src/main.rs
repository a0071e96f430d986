//! The `quire` command. Each subcommand lives in its own module and only parses
//! arguments and prints; the work is done by the library crates.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "quire", version, about = "Quire: a server-authoritative collaborative plain-text editor")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Subcommands are added here by their modules: serve, verify, conformance, bench.
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
