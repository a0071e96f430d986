//! The `quire` command. Each subcommand lives in its own module and only parses
//! arguments and prints; the work is done by the library crates.

mod bench;
mod bench_load;
mod conformance;
mod serve;
mod verify;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "quire",
    version,
    about = "Quire: a server-authoritative collaborative plain-text editor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Subcommands are added here by their modules: serve, verify, conformance, bench.
    /// Run the server: REST API, realtime gateway, and optionally the web app.
    Serve(serve::ServeArgs),
    /// Run ot-text-unicode conformance case files through the engine.
    Conformance(conformance::ConformanceArgs),
    /// Benchmarks (trace replay, ...).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Check the stored collaboration state offline (log, registry, snapshots).
    Verify(verify::VerifyArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Bench(command) => bench::run(command),
        Command::Verify(args) => verify::run(args),
    }
}
