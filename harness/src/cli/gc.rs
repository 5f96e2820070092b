//! `gameday gc`: delete what gameday runs left behind, and say so.

use gameday::cluster::gc::{self, Action, GcOptions, GcReport};
use gameday::exit;

/// Arguments of `gameday gc`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only list what would be deleted.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: &Args) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let report = runtime.block_on(gc::gc(&GcOptions::new(args.dry_run)));
    print!("{}", render(&report, args.dry_run));
    if report.failed() {
        exit::INFRASTRUCTURE
    } else {
        exit::SUCCESS
    }
}

/// One line per leftover, then what was left alone and a count.
fn render(report: &GcReport, dry_run: bool) -> String {
    let mut out = String::new();
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    for item in &report.items {
        let run = item
            .run_id
            .as_ref()
            .map(|r| format!(" (run {r})"))
            .unwrap_or_default();
        let line = match &item.action {
            Action::Deleted => format!("deleted       {}{run}", item.leftover),
            Action::WouldDelete => format!("would delete  {}{run}", item.leftover),
            Action::InUse(why) => format!("in use        {}: {why}", item.leftover),
            Action::Refused(why) => format!("refused       {}: {why}", item.leftover),
            Action::Failed(why) => format!(
                "FAILED        {}: {}",
                item.leftover,
                why.replace('\n', "\n              ")
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    if !report.others.is_empty() {
        out.push_str(&format!(
            "left alone    {} kind cluster(s) gameday did not create: {}\n",
            report.others.len(),
            report.others.join(", ")
        ));
    }
    let count = |f: fn(&Action) -> bool| report.items.iter().filter(|i| f(&i.action)).count();
    let done = count(|a| matches!(a, Action::Deleted | Action::WouldDelete));
    out.push_str(&format!(
        "{done} {}, {} refused, {} in use, {} failed\n",
        if dry_run { "to delete" } else { "deleted" },
        count(|a| matches!(a, Action::Refused(_))),
        count(|a| matches!(a, Action::InUse(_))),
        count(|a| matches!(a, Action::Failed(_))),
    ));
    out
}
