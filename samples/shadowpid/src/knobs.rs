// SPDX-License-Identifier: GPL-2.0
//! Kernel settings a command changes for its run (files of debugfs, sysfs
//! and procfs: fault-injection knobs, a cache's failslab flag, pid_max), put
//! back as they were when the run ends, however it ends: returning, an
//! error, or a signal ([`crate::interrupt`]). After a signal, and whenever a
//! setting cannot be put back, each one is said on stderr.

use crate::interrupt;
use std::{
    fs, io,
    path::{Path, PathBuf},
};

/// One setting changed.
struct Changed {
    /// Its file.
    path: PathBuf,
    /// What it held before the first change.
    before: String,
    /// What it was last set to.
    set: String,
}

/// The settings changed for a run, in order; put back in the reverse order
/// by [`Knobs::restore`], or when dropped.
pub struct Knobs {
    /// Who changed them, for what is said (`faults`).
    who: &'static str,
    /// Each setting once, in the order of its first change.
    changed: Vec<Changed>,
}

impl Knobs {
    /// None changed yet; `who` names the command in what is said.
    pub fn new(who: &'static str) -> Self {
        Self {
            who,
            changed: Vec::new(),
        }
    }

    /// Reads the setting `path` (trimmed).
    pub fn read(path: impl AsRef<Path>) -> io::Result<String> {
        let path = path.as_ref();
        fs::read_to_string(path)
            .map(|v| v.trim().to_string())
            .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))
    }

    /// Writes `value` to the setting `path`, not to be put back (a
    /// per-thread switch, say); the error names the file.
    pub fn write(path: &Path, value: &str) -> io::Result<()> {
        fs::write(path, value)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }

    /// Sets `path` to `value`, remembering what it held first.
    pub fn set(&mut self, path: impl AsRef<Path>, value: &str) -> io::Result<()> {
        let path = path.as_ref();
        let at = match self.changed.iter().position(|c| c.path == path) {
            Some(at) => at,
            None => {
                let before = Self::read(path)?;
                self.changed.push(Changed {
                    path: path.into(),
                    before,
                    set: String::new(),
                });
                self.changed.len() - 1
            }
        };
        Self::write(path, value)?;
        self.changed[at].set = value.into();
        Ok(())
    }

    /// How many settings it changed.
    pub fn len(&self) -> usize {
        self.changed.len()
    }

    /// Whether it changed none.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }

    /// Puts every setting back, the last changed first: each one is tried
    /// even if another fails (the first failure is returned). After a
    /// signal, says each one it put back.
    pub fn restore(&mut self) -> io::Result<()> {
        let signal = interrupt::requested();
        if let (Some(sig), false) = (signal, self.changed.is_empty()) {
            let n = self.changed.len();
            eprintln!(
                "{}: {}: putting back the {n} kernel setting{} it changed:",
                self.who,
                interrupt::signal_name(sig),
                if n == 1 { "" } else { "s" }
            );
        }
        let mut first_error = None;
        for c in self.changed.drain(..).rev() {
            match Self::write(&c.path, &c.before) {
                Ok(()) if signal.is_some() => eprintln!(
                    "{}:   {}: {} (was {} during the run)",
                    self.who,
                    c.path.display(),
                    c.before,
                    c.set
                ),
                Ok(()) => {}
                Err(e) => {
                    eprintln!(
                        "{}: could not put {} back to {}: {e}",
                        self.who,
                        c.path.display(),
                        c.before
                    );
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Knobs {
    fn drop(&mut self) {
        // What fails is said by restore().
        let _ = self.restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_back_as_they_were_in_reverse() {
        let dir = std::env::temp_dir().join(format!("shadowpid-knobs-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, "1\n").unwrap();
        fs::write(&b, "N\n").unwrap();
        {
            let mut k = Knobs::new("test");
            k.set(&a, "10").unwrap();
            k.set(&b, "Y").unwrap();
            k.set(&a, "20").unwrap();
            assert_eq!(k.len(), 2);
            assert_eq!(Knobs::read(&a).unwrap(), "20");
            assert_eq!(Knobs::read(&b).unwrap(), "Y");
        }
        assert_eq!(Knobs::read(&a).unwrap(), "1");
        assert_eq!(Knobs::read(&b).unwrap(), "N");
        let mut k = Knobs::new("test");
        assert!(k.set(dir.join("missing"), "1").is_err());
        assert!(k.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
