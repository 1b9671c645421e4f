//! The files runbooks name — `from_file` reads, `download` writes — kept
//! inside directories ebb.yaml names: `files_dir` and `downloads_dir`
//! (defaults under the data dir), plus any `allow_paths`. A relative path
//! resolves in its directory; an absolute path must lie in an allowed one;
//! `..` is refused; no symbolic link is followed out of a directory (nor at
//! the file itself); only regular files are read, never `/proc`, `/sys` or
//! `/dev`; a download never replaces an existing file unless the step says
//! `overwrite: true`, and is skipped (with a note) in a plan that may not
//! write, such as a viewer's through the API. Errors name the path and why,
//! never what a file holds. docs/SECURITY.md lists this defence.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Directories no runbook may read from or write to, whatever is allowed.
const NEVER: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Where a run may read and write the files its runbook names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAccess {
    /// Relative `from_file` paths resolve here. `None`: no file may be read.
    pub files_dir: Option<PathBuf>,
    /// Relative `download` paths resolve here. `None`: nothing may be written.
    pub downloads_dir: Option<PathBuf>,
    /// Further directories absolute paths may name.
    pub allowed: Vec<PathBuf>,
    /// Whether this run may write downloads (a viewer's plan may not).
    pub may_write: bool,
}

/// A download being written: a new file beside its target, put in place by
/// [`PendingDownload::finish`], removed if dropped unfinished.
#[derive(Debug)]
pub struct PendingDownload {
    named: String,
    target: PathBuf,
    partial: PathBuf,
    overwrite: bool,
    file: Option<File>,
}

impl PendingDownload {
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("open until finished")
    }

    /// Where the download ends up.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Puts the written file in place; without `overwrite` never over a file
    /// that appeared meanwhile (a hard link fails where the name exists).
    pub fn finish(mut self) -> Result<PathBuf, FileRefused> {
        let refused = |reason: String| FileRefused { path: self.named.clone(), reason };
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(|e| refused(format!("cannot write it: {}", os_reason(&e))))?;
        }
        let placed = if self.overwrite {
            std::fs::rename(&self.partial, &self.target)
        } else {
            std::fs::hard_link(&self.partial, &self.target).and_then(|()| std::fs::remove_file(&self.partial))
        };
        placed.map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => refused(
                "it exists, and a download never replaces a file unless its step says `overwrite: true`".to_owned(),
            ),
            _ => refused(format!("cannot write it: {}", os_reason(&e))),
        })?;
        Ok(self.target.clone())
    }
}

impl Drop for PendingDownload {
    fn drop(&mut self) {
        // Unfinished (or placed: then the name is gone and this does nothing).
        let _ = std::fs::remove_file(&self.partial);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", crate::shown::quoted(.path))]
pub struct FileRefused {
    pub path: String,
    pub reason: String,
}

impl FileAccess {
    /// The directories `ebb.yaml` gives runs (its `files_dir`, `downloads_dir`, `allow_paths`).
    pub fn from_config(config: &crate::config::Config) -> Self {
        FileAccess {
            files_dir: config.files_dir.clone(),
            downloads_dir: config.downloads_dir.clone(),
            allowed: config.allow_paths.clone(),
            may_write: true,
        }
    }

    /// Reads the text of `named` for `from_file`, at most `limit` bytes.
    pub fn read(&self, named: &str, limit: u64) -> Result<String, FileRefused> {
        let refused = |reason: String| FileRefused { path: named.to_owned(), reason };
        let path = self.place(named, self.files_dir.as_deref(), "files_dir")?;
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(refused("it is a symbolic link".to_owned())),
            Ok(meta) if !meta.is_file() => return Err(refused("it is not a regular file".to_owned())),
            Ok(_) => {}
            Err(e) => return Err(refused(format!("cannot read it: {}", os_reason(&e)))),
        }
        let real = std::fs::canonicalize(&path).map_err(|e| refused(format!("cannot read it: {}", os_reason(&e))))?;
        self.inside(&real, &path).map_err(&refused)?;
        // No link at the last step either, and no waiting on a FIFO: the file is checked once open.
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&real)
            .map_err(|e| refused(format!("cannot read it: {}", os_reason(&e))))?;
        regular(&file).map_err(&refused)?;
        read_bounded(file, limit).map_err(refused)
    }

    /// Opens `named` for `download`. What is written goes to a new file
    /// beside it, which [`PendingDownload::finish`] puts in place: a new name, or
    /// with `overwrite` in place of an existing regular file. A download that
    /// fails leaves nothing behind, so a retry or the next run is not refused.
    pub fn create(&self, named: &str, overwrite: bool) -> Result<PendingDownload, FileRefused> {
        let refused = |reason: String| FileRefused { path: named.to_owned(), reason };
        let path = self.place(named, self.downloads_dir.as_deref(), "downloads_dir")?;
        if let Some(dir) = self.downloads_dir.as_deref().filter(|dir| path.starts_with(dir)) {
            std::fs::create_dir_all(dir).map_err(|e| refused(format!("cannot create {}: {}", dir.display(), e)))?;
        }
        let (parent, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => (parent, name),
            _ => return Err(refused("it names no file".to_owned())),
        };
        let real_parent = std::fs::canonicalize(parent)
            .map_err(|e| refused(format!("its folder cannot be used: {}", os_reason(&e))))?;
        let target = real_parent.join(name);
        self.inside(&target, &path).map_err(&refused)?;
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(refused("it is a symbolic link".to_owned())),
            Ok(meta) if !meta.is_file() => return Err(refused("it is not a regular file".to_owned())),
            Ok(_) if !overwrite => {
                return Err(refused(
                    "it exists, and a download never replaces a file unless its step says `overwrite: true`".to_owned(),
                ));
            }
            _ => {}
        }
        let partial = real_parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&partial)
            .map_err(|e| refused(format!("cannot write beside it: {}", os_reason(&e))))?;
        Ok(PendingDownload { named: named.to_owned(), target, partial, overwrite, file: Some(file) })
    }

    /// Where `named` is, before links are resolved: in `base` when relative,
    /// itself when absolute and inside an allowed directory.
    fn place(&self, named: &str, base: Option<&Path>, setting: &str) -> Result<PathBuf, FileRefused> {
        let refused = |reason: String| FileRefused { path: named.to_owned(), reason };
        let path = Path::new(named);
        if named.is_empty() {
            return Err(refused("no path given".to_owned()));
        }
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(refused("`..` is not allowed in a runbook's file path".to_owned()));
        }
        if path.is_absolute() {
            let roots = self.roots(base);
            if roots.iter().any(|root| path.starts_with(root)) {
                return Ok(path.to_path_buf());
            }
            return Err(refused(format!(
                "absolute paths must lie in {setting} or a directory listed in allow_paths in ebb.yaml"
            )));
        }
        match base {
            Some(base) => Ok(base.join(path)),
            None => Err(refused(format!("ebb.yaml names no {setting}, so runbooks cannot use files"))),
        }
    }

    fn roots(&self, base: Option<&Path>) -> Vec<PathBuf> {
        base.into_iter().map(Path::to_path_buf).chain(self.allowed.iter().cloned()).collect()
    }

    /// Refuses `real` (links resolved) unless it is inside the root that
    /// `path` (as named) lies in, and outside `/proc`, `/sys` and `/dev`.
    fn inside(&self, real: &Path, path: &Path) -> Result<(), String> {
        if NEVER.iter().any(|never| real.starts_with(never)) {
            return Err("special files (/proc, /sys, /dev) are never used".to_owned());
        }
        let roots = self.files_dir.iter().chain(&self.downloads_dir).chain(&self.allowed);
        for root in roots.filter(|root| path.starts_with(root)) {
            let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
            if real.starts_with(&real_root) {
                return Ok(());
            }
        }
        Err("it leads outside its directory through a symbolic link".to_owned())
    }
}

fn regular(file: &File) -> Result<(), String> {
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err("it is not a regular file".to_owned()),
        Err(e) => Err(format!("cannot read it: {}", os_reason(&e))),
    }
}

fn read_bounded(file: File, limit: u64) -> Result<String, String> {
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text).map_err(|e| format!("cannot read it as text: {}", os_reason(&e)))?;
    if text.len() as u64 > limit {
        return Err(format!("it is larger than {} MiB", limit / (1024 * 1024)));
    }
    Ok(text)
}

/// The operating system's reason, without the path it may repeat.
fn os_reason(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ELOOP) => "it is a symbolic link".to_owned(),
        Some(_) => std::io::Error::from_raw_os_error(error.raw_os_error().unwrap_or_default())
            .to_string()
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => error.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dirs {
        root: PathBuf,
        access: FileAccess,
    }

    fn dirs() -> Dirs {
        let root = tempfile::tempdir().unwrap().keep();
        for dir in ["files", "downloads", "outside"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        let access = FileAccess {
            files_dir: Some(root.join("files")),
            downloads_dir: Some(root.join("downloads")),
            allowed: Vec::new(),
            may_write: true,
        };
        Dirs { root, access }
    }

    impl Drop for Dirs {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn reads_stay_in_files_dir() {
        let d = dirs();
        std::fs::write(d.root.join("files/ok.csv"), "t,0,1\n").unwrap();
        std::fs::write(d.root.join("outside/secret"), "hunter2\n").unwrap();
        assert_eq!(d.access.read("ok.csv", 1024).unwrap(), "t,0,1\n");
        let absolute = d.root.join("files/ok.csv").display().to_string();
        assert_eq!(d.access.read(&absolute, 1024).unwrap(), "t,0,1\n", "inside, named absolutely");
        for (named, why) in [
            ("../outside/secret", "`..` is not allowed"),
            ("/etc/passwd", "absolute paths must lie in files_dir"),
            ("/proc/self/environ", "absolute paths must lie in files_dir"),
            ("", "no path given"),
            ("missing.csv", "cannot read it: No such file"),
        ] {
            let e = d.access.read(named, 1024).unwrap_err().to_string();
            assert!(e.contains(why), "{named}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn no_link_leads_out_and_special_files_are_refused() {
        let d = dirs();
        std::fs::write(d.root.join("outside/secret"), "hunter2\n").unwrap();
        std::os::unix::fs::symlink(d.root.join("outside/secret"), d.root.join("files/link")).unwrap();
        std::os::unix::fs::symlink(d.root.join("outside"), d.root.join("files/dirlink")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", d.root.join("files/environ")).unwrap();
        let e = d.access.read("link", 1024).unwrap_err().to_string();
        assert!(e.contains("it is a symbolic link"), "{e}");
        let e = d.access.read("dirlink/secret", 1024).unwrap_err().to_string();
        assert!(e.contains("outside its directory through a symbolic link"), "{e}");
        let e = d.access.read("environ", 1024).unwrap_err().to_string();
        assert!(e.contains("it is a symbolic link"), "{e}");
        let allowed = FileAccess { allowed: vec![PathBuf::from("/proc")], ..d.access.clone() };
        assert!(allowed.read("/proc/self/environ", 1024).unwrap_err().to_string().contains("special files"));
        let fifo = d.root.join("files/fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(d.access.read("fifo", 1024).unwrap_err().to_string().contains("not a regular file"));
    }

    #[test]
    fn downloads_never_replace_a_file_unless_told_and_never_follow_a_link() {
        let d = dirs();
        let mut download = d.access.create("matches.jsonl", false).unwrap();
        std::io::Write::write_all(download.file(), b"one\n").unwrap();
        let placed = download.finish().unwrap();
        assert!(placed.starts_with(std::fs::canonicalize(d.root.join("downloads")).unwrap()));
        assert_eq!(std::fs::read_to_string(&placed).unwrap(), "one\n");
        let e = d.access.create("matches.jsonl", false).unwrap_err().to_string();
        assert!(e.contains("overwrite: true"), "{e}");
        let mut again = d.access.create("matches.jsonl", true).unwrap();
        std::io::Write::write_all(again.file(), b"two\n").unwrap();
        again.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&placed).unwrap(), "two\n");
        // A download dropped unfinished (a failed scan) leaves nothing behind.
        drop(d.access.create("failed.jsonl", false).unwrap());
        assert_eq!(std::fs::read_dir(d.root.join("downloads")).unwrap().count(), 1);
        std::fs::write(d.root.join("outside/target"), "keep").unwrap();
        std::os::unix::fs::symlink(d.root.join("outside/target"), d.root.join("downloads/link")).unwrap();
        for overwrite in [false, true] {
            assert!(d.access.create("link", overwrite).is_err(), "overwrite {overwrite}");
        }
        assert_eq!(std::fs::read_to_string(d.root.join("outside/target")).unwrap(), "keep");
        assert!(d.access.create("/tmp/elsewhere.jsonl", false).is_err());
        assert!(d.access.create("../outside/x", false).is_err());
    }
}
