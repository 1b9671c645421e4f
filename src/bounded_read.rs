//! Files read whole, with a ceiling. A runbook or `ebb.yaml` of 50 MB is a
//! mistake or an attack, not a configuration; it is refused before it is read,
//! by its size, and a file that grows while being read is cut at the ceiling
//! and refused the same way.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Runbooks and `ebb.yaml`: a generous page of YAML is a few kilobytes.
pub const CONFIG_FILE_LIMIT: u64 = 1024 * 1024;
/// Saved plans and offsets files, which list partitions and can be long.
pub const DATA_FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// The file's text, or an error naming its size and the limit.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large(format!("it is {}", bytes(size)), limit));
    }
    let mut text = String::with_capacity(size as usize);
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(too_large("it grew past the limit while read".to_owned(), limit));
    }
    Ok(text)
}

fn too_large(what: String, limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}; ebb reads files of at most {}", bytes(limit)))
}

/// A size as people say it: bytes, KiB or MiB.
fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    match n {
        n if n >= KIB * KIB => format!("{:.1} MiB", n as f64 / (KIB * KIB) as f64),
        n if n >= KIB => format!("{:.1} KiB", n as f64 / KIB as f64),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(name: &str, len: usize) -> std::path::PathBuf {
        let path = tempfile::tempdir().unwrap().keep().join(name);
        std::fs::write(&path, "a".repeat(len)).unwrap();
        path
    }

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_refused_by_its_size() {
        let at = file_of("bounded-at", 4096);
        assert_eq!(read_text(&at, 4096).unwrap().len(), 4096);
        let over = file_of("bounded-over", 50 * 1024 * 1024);
        let e = read_text(&over, CONFIG_FILE_LIMIT).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(e.to_string(), "it is 50.0 MiB; ebb reads files of at most 1.0 MiB");
        for path in [at, over] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn a_missing_file_keeps_the_systems_reason() {
        let e = read_text(Path::new("/nonexistent/ebb.yaml"), CONFIG_FILE_LIMIT).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
