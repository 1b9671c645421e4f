//! The runbooks the daemon serves, reloaded when the directory changes.
//!
//! Every file is validated as `ebb validate` does. A valid file replaces the
//! version before it at once; an invalid one keeps the last good version of
//! its runbook (found by its `name`, or by the file it was read from) running,
//! with its problems attached for the API to show. A runbook whose file is
//! gone is gone. The directory is polled: a listing with sizes and modification
//! times is cheap, and nothing is read again unless it changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::runbook::spec::RunbookSpec;
use crate::runbook::{Catalog, Checked, check_paths, is_runbook_name};
use crate::schedule::Timing;

/// One runbook as the daemon knows it.
#[derive(Debug, Clone)]
pub struct RunbookEntry {
    pub name: String,
    /// The file it was last read from.
    pub path: PathBuf,
    /// The last version that validated (what runs), if there ever was one.
    pub good: Option<Checked>,
    /// The schedule of the good version: none, or valid (validation checked it).
    pub timing: Option<Timing>,
    /// Problems of the file as it is now (`file:line:column: message`); empty when valid.
    pub problems: Vec<String>,
    /// When the good version was loaded.
    pub loaded_at: Option<DateTime<Utc>>,
}

impl RunbookEntry {
    /// The spec of the version that runs, if there is one.
    pub fn spec(&self) -> Option<&RunbookSpec> {
        self.good.as_ref().and_then(|g| g.spec.as_ref())
    }

    /// The time zone its schedule is read in, if it has one.
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        self.timing.as_ref().map(|t| t.cron.zone())
    }
}

/// What the directory holds: each file's size and modification time.
pub type Listing = Vec<(PathBuf, u64, Option<SystemTime>)>;

pub struct RunbookSet {
    dir: PathBuf,
    catalog: Catalog,
    listing: Option<Listing>,
    entries: BTreeMap<String, RunbookEntry>,
    /// Files with problems and no runbook name to file them under.
    nameless: Vec<(PathBuf, Vec<String>)>,
}

impl RunbookSet {
    pub fn new(dir: PathBuf, catalog: Catalog) -> Self {
        RunbookSet { dir, catalog, listing: None, entries: BTreeMap::new(), nameless: Vec::new() }
    }

    pub fn get(&self, name: &str) -> Option<&RunbookEntry> {
        self.entries.get(name)
    }

    /// Whether runbook `name`'s version that runs is under `approval:`.
    pub fn under_approval(&self, name: &str) -> bool {
        self.get(name).and_then(RunbookEntry::spec).is_some_and(|s| s.approval.is_some())
    }

    pub fn entries(&self) -> impl Iterator<Item = &RunbookEntry> {
        self.entries.values()
    }

    pub fn nameless(&self) -> &[(PathBuf, Vec<String>)] {
        &self.nameless
    }

    /// Runbooks known (with a good version or not).
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// Reads the directory again if anything in it changed; true when it did.
    /// (The daemon does the same in parts, so that the files are read and
    /// validated outside its lock: [`list`], [`Self::is_current`], [`check`],
    /// [`Self::apply`].)
    pub fn reload(&mut self) -> bool {
        let listing = list(&self.dir);
        if self.is_current(&listing) {
            return false;
        }
        let checked = check(&self.dir, &self.catalog);
        self.apply(listing, checked);
        true
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Whether `listing` is what the set was last loaded from.
    pub fn is_current(&self, listing: &Listing) -> bool {
        self.listing.as_ref() == Some(listing)
    }

    /// Takes in the files of `listing`, validated (by [`check`], after the
    /// listing was made: a file changed in between is read again next time).
    pub fn apply(&mut self, listing: Listing, checked: Vec<Checked>) {
        self.listing = Some(listing);
        let now = Utc::now();
        let mut entries = BTreeMap::new();
        let mut nameless = Vec::new();
        for checked in checked {
            let problems: Vec<String> = checked
                .problems
                .iter()
                .map(|p| format!("{}:{}:{}: {}", checked.path.display(), p.at.line, p.at.column, p.message))
                .collect();
            let name = checked
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .or_else(|| self.entries.values().find(|e| e.path == checked.path).map(|e| e.name.clone()));
            let Some(name) = name else {
                tracing::error!(file = %checked.path.display(), problems = %problems.join("; "), "runbook file is invalid");
                nameless.push((checked.path.clone(), problems));
                continue;
            };
            let previous = self.entries.get(&name);
            let entry = if checked.is_valid() {
                let unchanged = previous.and_then(|p| p.good.as_ref()).is_some_and(|g| g.text == checked.text);
                if !unchanged {
                    tracing::info!(runbook = %name, file = %checked.path.display(), "runbook loaded");
                }
                RunbookEntry {
                    name: name.clone(),
                    path: checked.path.clone(),
                    timing: checked.spec.as_ref().and_then(|s| s.schedule.as_ref()).and_then(|s| s.timing().ok()),
                    good: Some(checked),
                    problems: Vec::new(),
                    loaded_at: if unchanged { previous.and_then(|p| p.loaded_at) } else { Some(now) },
                }
            } else {
                let kept = previous.filter(|p| p.good.is_some());
                tracing::error!(
                    runbook = %name,
                    problems = %problems.join("; "),
                    "runbook file is invalid; {}",
                    if kept.is_some() { "the last good version stays in effect" } else { "it has no good version to run" }
                );
                RunbookEntry {
                    name: name.clone(),
                    path: checked.path.clone(),
                    good: kept.and_then(|p| p.good.clone()),
                    timing: kept.and_then(|p| p.timing.clone()),
                    problems,
                    loaded_at: kept.and_then(|p| p.loaded_at),
                }
            };
            entries.insert(name, entry);
        }
        for gone in self.entries.keys().filter(|name| !entries.contains_key(*name)) {
            tracing::info!(runbook = %gone, "runbook removed");
        }
        self.entries = entries;
        self.nameless = nameless;
    }
}

/// Every runbook file of `dir`, validated as `ebb validate` does.
pub fn check(dir: &Path, catalog: &Catalog) -> Vec<Checked> {
    check_paths(&[dir.to_owned()], catalog)
}

/// The runbook files of `dir` (as [`crate::runbook::runbook_files`] finds
/// them) with their sizes and modification times. This runs every second, so
/// each file costs one `stat` relative to the directory (a symbolic link one
/// more, to follow it), and the sort compares names as bytes.
pub fn list(dir: &Path) -> Listing {
    let Ok(read) = std::fs::read_dir(dir) else { return Listing::new() };
    let mut listing: Listing = read
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let path = entry.path();
            if !is_runbook_name(&path) {
                return None;
            }
            let is_link = entry.file_type().ok()?.is_symlink();
            let meta = if is_link { std::fs::metadata(&path) } else { entry.metadata() }.ok()?;
            meta.is_file().then(|| (path, meta.len(), meta.modified().ok()))
        })
        .collect();
    listing.sort_unstable_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: nightly\ncluster: local\nschedule: { cron: \"0 3 * * *\" }\nsteps:\n  - id: check\n    check: { that: \"true\", message: fine }\n";

    fn catalog() -> Catalog {
        Catalog { clusters: vec![("local".into(), "kafka")], ..Catalog::default() }
    }

    fn dir() -> PathBuf {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes a file so that its modification time differs from the last write.
    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(1);
        std::fs::File::options().write(true).open(path).unwrap().set_modified(later).unwrap();
    }

    #[test]
    fn an_invalid_edit_keeps_the_last_good_version_and_shows_its_problems() {
        let dir = dir();
        let file = dir.join("nightly.yaml");
        write(&file, GOOD);
        let mut set = RunbookSet::new(dir.clone(), catalog());
        assert!(set.reload());
        assert!(!set.reload(), "nothing changed");
        let entry = set.get("nightly").unwrap();
        assert!(entry.problems.is_empty() && entry.timing.is_some());

        write(&file, &GOOD.replace("0 3 * * *", "0 25 * * *"));
        assert!(set.reload());
        let entry = set.get("nightly").unwrap();
        assert_eq!(entry.good.as_ref().unwrap().text, GOOD, "the last good version stays");
        assert!(entry.problems[0].contains("hour value 25"), "{:?}", entry.problems);

        // Broken beyond naming: found by its file.
        write(&file, "name: [\n");
        assert!(set.reload());
        assert!(set.get("nightly").unwrap().good.is_some());

        write(&file, &GOOD.replace("0 3 * * *", "*/5 * * * *"));
        set.reload();
        let entry = set.get("nightly").unwrap();
        assert!(entry.problems.is_empty());
        assert_eq!(entry.timing.as_ref().unwrap().cron.expression(), "*/5 * * * *");
    }

    #[test]
    fn files_come_and_go() {
        let dir = dir();
        let mut set = RunbookSet::new(dir.clone(), catalog());
        set.reload();
        assert_eq!(set.count(), 0);
        write(&dir.join("a.yaml"), &GOOD.replace("nightly", "a"));
        write(&dir.join("junk.yml"), ": :\n");
        set.reload();
        assert_eq!(set.entries().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["a"]);
        assert_eq!(set.nameless().len(), 1);
        std::fs::remove_file(dir.join("a.yaml")).unwrap();
        set.reload();
        assert!(set.get("a").is_none());
    }

    #[test]
    fn the_listing_holds_what_validation_reads_and_sees_a_link_target_change() {
        let (dir, elsewhere) = (dir(), dir());
        write(&dir.join("b.yaml"), GOOD);
        write(&dir.join("a.yml"), GOOD);
        write(&dir.join("notes.txt"), "not a runbook");
        std::fs::create_dir_all(dir.join("sub.yaml")).unwrap();
        write(&elsewhere.join("target.yaml"), GOOD);
        std::os::unix::fs::symlink(elsewhere.join("target.yaml"), dir.join("linked.yaml")).unwrap();
        let listing = list(&dir);
        let listed: Vec<PathBuf> = listing.iter().map(|(path, _, _)| path.clone()).collect();
        assert_eq!(listed, crate::runbook::runbook_files(&dir).unwrap());
        assert_eq!(listing[2].1, GOOD.len() as u64, "a link is listed with its target's size");
        let mut set = RunbookSet::new(dir.clone(), catalog());
        assert!(set.reload());
        write(&elsewhere.join("target.yaml"), &format!("{GOOD}# edited\n"));
        assert!(!set.is_current(&list(&dir)), "an edit behind a link is a change");
    }
}
