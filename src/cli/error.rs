//! The one command error type: a message naming what failed, a hint saying what to do, and the
//! exit code. Library errors get their context here, at the CLI edge, and nowhere else.

use std::fmt;

use verbatim::{fetch, source, store};

use super::exit;

/// A failed command, ready to print as one line.
#[derive(Debug)]
pub struct CommandError {
    /// What failed.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The process exit code.
    pub code: u8,
}

impl CommandError {
    pub fn new(code: u8, message: impl Into<String>) -> CommandError {
        CommandError {
            message: message.into(),
            hint: None,
            code,
        }
    }

    pub fn usage(message: impl Into<String>) -> CommandError {
        CommandError::new(exit::USAGE, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CommandError {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with the source it concerns.
    pub fn on(mut self, what: &str) -> CommandError {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line: hints follow the message after a semicolon.
        write!(f, "{}", self.message.trim_end_matches('.'))?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// What an I/O failure says of the machine rather than of verbatim or the store's content: a
/// read-only file system, a full disk or quota, a permission refused.
fn environment_fault(kind: std::io::ErrorKind) -> Option<Fault> {
    use std::io::ErrorKind as K;
    match kind {
        K::ReadOnlyFilesystem => Some(Fault::ReadOnly),
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge => Some(Fault::NoSpace),
        K::PermissionDenied => Some(Fault::Permission),
        _ => None,
    }
}

/// The same for a libgit2 failure, which carries the system's words, not its error number.
fn git_environment_fault(e: &git2::Error) -> Option<Fault> {
    let text = e.message().to_ascii_lowercase();
    if text.contains("read-only file system") {
        Some(Fault::ReadOnly)
    } else if text.contains("no space left") || text.contains("quota exceeded") {
        Some(Fault::NoSpace)
    } else if text.contains("permission denied") {
        Some(Fault::Permission)
    } else {
        None
    }
}

/// A fault of the machine a run met.
#[derive(Debug, Clone, Copy)]
enum Fault {
    ReadOnly,
    NoSpace,
    Permission,
}

/// A store the machine would not let this run write: a store problem (exit 3), not an internal
/// one, and nothing was recorded (a write is published only once complete).
fn store_environment(message: String, fault: Option<Fault>) -> CommandError {
    let hint = match fault {
        Some(Fault::ReadOnly) => {
            "the store is on a read-only file system; nothing was recorded: remount it writable or work on a copy"
        }
        Some(Fault::NoSpace) => {
            "the disk holding the store is full; nothing was recorded: free space and run again (`verbatim gc` reclaims what killed runs left)"
        }
        _ => {
            "this user may not write the store; nothing was recorded: run as its owner or fix its permissions"
        }
    };
    CommandError::new(exit::STORE, message).hint(hint)
}

/// A failure writing verbatim's own temporary files (in the system's temporary directory), which
/// is neither the store's fault nor a bug.
pub fn temporary_files(e: std::io::Error) -> CommandError {
    let dir = std::env::temp_dir();
    let hint = match environment_fault(e.kind()) {
        Some(Fault::NoSpace) => "free space there, or set TMPDIR to a directory with room",
        _ => "set TMPDIR to a writable directory",
    };
    CommandError::new(
        exit::INTERNAL,
        format!("cannot write temporary files in {}: {e}", dir.display()),
    )
    .hint(hint)
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> CommandError {
        CommandError::new(exit::INTERNAL, e.to_string())
    }
}

impl From<store::Error> for CommandError {
    fn from(e: store::Error) -> CommandError {
        use store::Error as E;
        let message = e.to_string();
        match e {
            E::Missing { .. } | E::NotFound { .. } => CommandError::new(exit::STORE, message).hint(
                "create one with `verbatim init`, or name one with --store DIR or VERBATIM_STORE",
            ),
            E::NotAStore { .. } => CommandError::new(exit::STORE, message)
                .hint("name a directory made by `verbatim init` with --store DIR"),
            E::UnsupportedFormat { found, .. }
                if found < verbatim::store::record::FORMAT_VERSION =>
            {
                CommandError::new(exit::STORE, message).hint(
                    "the store was made by a development build; add its sources to a new store",
                )
            }
            E::UnsupportedFormat { .. } => {
                CommandError::new(exit::STORE, message).hint("upgrade verbatim to read this store")
            }
            E::AlreadyExists { .. } => CommandError::new(exit::STORE, message)
                .hint("choose another directory, or use the existing store"),
            E::Locked { .. } => CommandError::new(exit::STORE, message)
                .hint("wait for the other run to finish, or raise --lock-timeout"),
            E::UnknownSource { .. } => CommandError::usage(message)
                .hint("`verbatim list` shows the tracked sources and their ids"),
            E::AmbiguousSource { .. } => {
                CommandError::usage(message).hint("give more digits of the id")
            }
            E::Damaged { .. } => CommandError::new(exit::STORE, message).hint(
                "`verbatim verify` says what is damaged; restore the store from a clone or a backup",
            ),
            E::Raced => CommandError::new(exit::STORE, message),
            E::InvalidSource { .. } => CommandError::new(exit::STORE, message),
            E::Io { ref source, .. } if environment_fault(source.kind()).is_some() => {
                store_environment(message, environment_fault(source.kind()))
            }
            E::Git(ref git) if git_environment_fault(git).is_some() => {
                store_environment(message, git_environment_fault(git))
            }
            E::CorruptRecord { .. } | E::Git(_) | E::Io { .. } => {
                CommandError::new(exit::INTERNAL, message).hint(
                    "the store may be damaged; check it with `git fsck` in the store directory",
                )
            }
        }
    }
}

impl From<verbatim::ops::Error> for CommandError {
    fn from(e: verbatim::ops::Error) -> CommandError {
        use verbatim::ops::Error as E;
        match e {
            E::Store(e) => e.into(),
            E::Source(e) => e.into(),
            E::Fetch(e) => e.into(),
            E::Temporary(e) => temporary_files(e),
            E::Rules(e) => CommandError::usage(e.to_string()),
            E::Import(e) => CommandError::usage(e.to_string()),
            E::On { input, source } => CommandError::from(*source).on(&input),
            E::Version(e) => e.into(),
            e @ E::Panicked(_) => CommandError::new(exit::INTERNAL, e.to_string()),
            E::Caller(e) => CommandError::new(exit::INTERNAL, format!("cannot write output: {e}")),
        }
    }
}

/// A version that could not be found, with what to do about it.
impl From<verbatim::store::version::VersionError> for CommandError {
    fn from(e: verbatim::store::version::VersionError) -> CommandError {
        use verbatim::store::version::VersionError as V;
        let message = e.to_string();
        match e {
            V::NoNumber { id, count, .. } => CommandError::usage(message).hint(format!(
                "it has versions 1 to {count}; see `verbatim log {id}`"
            )),
            V::NoHash { id, .. } => {
                CommandError::usage(message).hint(format!("see `verbatim log {id}`"))
            }
            V::AmbiguousHash { .. } => {
                CommandError::usage(message).hint("give more digits, or the version number")
            }
            V::NotYet { first, .. } => CommandError::usage(message).hint(format!(
                "its first capture was at {}",
                first.map_or("never".to_owned(), |t| t.to_string())
            )),
            V::NoVersions { .. } => CommandError::usage(message),
            V::OnlyOne { id, locator } => CommandError::usage(message).hint(format!(
                "compare it with a fresh copy: `verbatim diff {id} --against {locator}`"
            )),
            V::Rules { id, .. } => CommandError::new(exit::STORE, message)
                .hint(format!("fix them with `verbatim configure {id}`")),
        }
    }
}

/// An export that failed: the destination (named by the user) is theirs to fix, the store's
/// failures are the store's.
impl From<verbatim::ops::export::Error> for CommandError {
    fn from(e: verbatim::ops::export::Error) -> CommandError {
        use verbatim::ops::export::Error as E;
        let message = e.to_string();
        match e {
            E::Exists(_) => {
                CommandError::usage(message).hint("name a new file or directory to write")
            }
            E::Io { source, .. } => {
                let hint = match environment_fault(source.kind()) {
                    Some(Fault::ReadOnly) => "the destination is on a read-only file system",
                    Some(Fault::NoSpace) => {
                        "the destination's disk is full: free space or write elsewhere"
                    }
                    Some(Fault::Permission) => "check the destination's permissions",
                    None => "check the destination, then export again",
                };
                CommandError::usage(message).hint(hint)
            }
            E::Store(e) => e.into(),
            E::Json(_) => CommandError::new(exit::INTERNAL, message),
        }
    }
}

impl From<source::Error> for CommandError {
    fn from(e: source::Error) -> CommandError {
        CommandError::usage(e.to_string())
    }
}

impl From<fetch::Error> for CommandError {
    fn from(e: fetch::Error) -> CommandError {
        use fetch::Error as E;
        let message = e.to_string();
        match e {
            E::NotFound { .. } => CommandError::usage(message).hint("check the path"),
            E::IsDirectory { .. } => CommandError::usage(message).hint("name a file inside it"),
            E::NotRegular { .. } => {
                CommandError::usage(message).hint("only regular files are read; copy it to one")
            }
            E::Unreadable { .. } => {
                CommandError::usage(message).hint("check the file's permissions")
            }
            E::TooLarge { .. } => CommandError::new(exit::FETCH, message).hint("raise --max-bytes"),
            E::Status { status, .. } => {
                let hint = match status {
                    404 | 410 => "check the URL; nothing was stored",
                    401 | 403 => "the server refuses access; nothing was stored",
                    429 | 500..=599 => "the server is failing or busy; try again later",
                    _ => "nothing was stored",
                };
                CommandError::new(exit::FETCH, message).hint(hint)
            }
            E::TooManyRedirects { .. } | E::BadRedirect { .. } | E::RedirectScheme { .. } => {
                CommandError::new(exit::FETCH, message).hint("check the URL; nothing was stored")
            }
            E::Protocol { .. } => CommandError::new(exit::FETCH, message)
                .hint("the server's answer is malformed; nothing was stored"),
            E::Internal { .. } => CommandError::new(exit::FETCH, message)
                .hint("give --allow-private if this address is meant to be fetched"),
            E::Timeout { .. } | E::Connection { .. } => CommandError::new(exit::FETCH, message)
                .hint("check the URL and the network, then try again"),
        }
    }
}
