//! `quire verify`: offline consistency check of the stored collaboration
//! state (the checks live in `quire_core::verify`). Prints what it checked
//! per document, then every corruption found; exits non-zero if any. A
//! SQLite data directory is opened read-only: the check changes nothing and
//! may run beside a server.

use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use std::path::PathBuf;

#[derive(Args)]
#[command(group(ArgGroup::new("target").required(true).args(["data", "database_url"])))]
pub struct VerifyArgs {
    /// SQLite data directory (as given to `quire serve --data`).
    #[arg(long)]
    data: Option<PathBuf>,
    /// PostgreSQL URL (as given to `quire serve --database-url`).
    #[arg(long)]
    database_url: Option<String>,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let target = match (&args.database_url, &args.data) {
        (Some(url), _) => url.clone(),
        (None, Some(dir)) => {
            if !dir.is_dir() {
                bail!("data directory {} does not exist", dir.display());
            }
            dir.to_string_lossy().into_owned()
        }
        (None, None) => bail!("give --data DIR or --database-url URL"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let store = quire_storage::open_for_reading(&target)
            .await
            .context("cannot open the store")?;
        quire_core::verify::verify_store(&*store)
            .await
            .context("cannot read the store")
    })?;

    for d in &report.documents {
        println!(
            "document {}: {} ops after pruned seq {}, {} registry entries, {} snapshots replayed \
             ({} older than the log), state version {} with {} chars: {}",
            d.doc,
            d.ops,
            d.pruned_through.0,
            d.registry_entries,
            d.snapshots_replayed,
            d.snapshots_before_log,
            d.version.0,
            d.content_chars,
            if d.corruptions.is_empty() {
                "ok"
            } else {
                "CORRUPT"
            },
        );
    }
    println!(
        "checked {} documents: log seqs and versions contiguous, operation ids applied once and \
         registered, snapshots equal to the replay of the log, current content = latest snapshot + tail",
        report.documents.len()
    );
    let corruptions: Vec<_> = report.corruptions().collect();
    if corruptions.is_empty() {
        println!("no corruption found");
        return Ok(());
    }
    for (doc, c) in &corruptions {
        eprintln!("CORRUPTION in document {doc}: {c}");
    }
    bail!("{} corruption(s) found", corruptions.len())
}
