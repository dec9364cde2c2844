//! `verbatim diff`.

use std::time::Duration;

use jiff::Timestamp;
use verbatim::capture::{self, Capture};
use verbatim::classify::summary;
use verbatim::diff::{self, Granularity, TextDiff};
use verbatim::extract::Rules;
use verbatim::fetch::{self, HttpClient};
use verbatim::hash::sha256_hex;
use verbatim::report::diff::{self as printer, DiffReport, DocumentInfo};
use verbatim::source::Locator;
use verbatim::store::Snapshot;
use verbatim::store::record::{SourceRecord, VersionRecord};

use super::error::CommandError;
use super::{Context, exit, output};

/// Show what changed between two versions of a source, or two documents
///
///   verbatim diff SOURCE [FROM] [TO]       two stored versions (default: the previous and the latest)
///   verbatim diff SOURCE [FROM] --against PATH|URL   a stored version against a fresh copy
///   verbatim diff PATH|URL PATH|URL         two documents, no store needed
///
/// A version is a number (3 or v3), a prefix of its SHA-256 (as `verbatim log` shows it), or a
/// date or time (the version current then). The text compared is the one `check` compares:
/// extracted from the stored bytes with the source's current rules, ignored patterns removed.
/// Exits 0 when the texts are identical, 1 when they differ, and 2 or more when the diff could
/// not be made.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A tracked source (id, id prefix, path or URL), or the first of two documents
    #[arg(value_name = "SOURCE")]
    first: String,
    /// The old version (FROM), or the second document
    #[arg(value_name = "FROM")]
    second: Option<String>,
    /// The new version [default: the latest]
    #[arg(value_name = "TO", conflicts_with = "against")]
    third: Option<String>,
    /// Compare the stored version (FROM, default the latest) with a fresh copy of this path or
    /// URL, recording nothing
    #[arg(long, value_name = "PATH|URL")]
    against: Option<String>,
    /// Compare the version current at this time (FROM) with the latest
    #[arg(long, value_name = "DATETIME", value_parser = super::show::parse_datetime, conflicts_with = "second")]
    at: Option<Timestamp>,
    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
    /// Show only the summary and the counts of words and paragraphs changed
    #[arg(long)]
    stat: bool,
    /// Unchanged paragraphs shown around each change (lines, for --format unified)
    /// [default: 1 paragraph; 3 lines]
    #[arg(long, value_name = "N")]
    context: Option<usize>,
    /// The unit compared and shown
    #[arg(long, value_enum, default_value_t = GranularityArg::Word)]
    granularity: GranularityArg,
    /// Seconds the alignment may take; past it the diff is coarser and says it is approximate
    #[arg(long, default_value_t = diff::DEFAULT_TIMEOUT.as_secs_f64(), value_name = "SECS", value_parser = super::limits::seconds)]
    deadline: f64,
    /// Seconds allowed for each HTTP fetch, body included
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = super::limits::whole_seconds)]
    timeout: u64,
    /// Largest file or response body accepted, in bytes
    #[arg(long, default_value_t = fetch::Options::default().max_body, value_name = "N", value_parser = super::limits::bytes)]
    max_bytes: u64,
    /// Let URLs from content, and redirects from public sites, reach internal addresses
    /// (loopback, private networks, link-local)
    #[arg(long)]
    allow_private: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DiffFormat {
    /// Word diff with a change summary, for people
    Human,
    /// Ops with text and character offsets, summary and counts
    Json,
    /// A unified diff of the text by lines, for patch and git apply
    Unified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GranularityArg {
    Word,
    Line,
    Char,
}

/// How documents named on the command line are read.
struct Reader {
    /// Built on the first URL: two local files need no client (reading the proxy settings
    /// and setting up TLS is a visible part of a short diff).
    client: std::sync::OnceLock<HttpClient>,
    timeout: Duration,
    max_bytes: u64,
    allow_private: bool,
    /// Whether to hash their bytes and text (for the header and JSON).
    hash: bool,
}

/// One side of the comparison: its text, and what the printers say about it.
struct Side {
    info: DocumentInfo,
    title: Option<String>,
    text: Text,
    /// No text could be decoded (a PDF, an image): only the bytes can be compared.
    binary: bool,
}

impl Reader {
    fn client(&self) -> &HttpClient {
        self.client.get_or_init(|| {
            HttpClient::new(fetch::Options {
                total_timeout: self.timeout,
                max_body: self.max_bytes,
                allow_private: self.allow_private,
                ..fetch::Options::default()
            })
        })
    }
}

/// A side's text: made by extraction, or a mapped file's own bytes where they are its text.
enum Text {
    Made(String),
    /// Checked to be UTF-8 (and to be the text) when it was mapped.
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Made(text) => text,
            // SAFETY: extraction found these bytes to be valid UTF-8 when they were mapped;
            // nothing here writes to the (read-only) mapping. See `mapped` for other writers.
            Text::Mapped(map) => unsafe { std::str::from_utf8_unchecked(map) },
        }
    }
}

/// A local file's bytes mapped rather than read, when they are long enough for that to pay;
/// on Linux, a `SIGBUS` in it (the file truncated while mapped) becomes a one-line error and
/// exit 4.
fn mapped(path: &std::path::Path, max_bytes: u64) -> Result<Option<memmap2::Mmap>, fetch::Error> {
    // SAFETY: the mapping is only read. Another process truncating the file raises SIGBUS,
    // handled below. One rewriting it in place while the diff runs changes the bytes after
    // extraction checked them (they could stop being UTF-8 under a `str`): an accepted risk of
    // mapping, as in other tools that map what they search (ripgrep); a diff is read-only and
    // short-lived, and the files are the user's own.
    let map = unsafe { fetch::map_file(path, max_bytes) }?;
    #[cfg(target_os = "linux")]
    if let Some(map) = &map {
        sigbus::watch(map);
    }
    Ok(map)
}

/// Turns a bus error in a mapped file into an error exit; any other goes to the handler that
/// was there before (std's, which tells a stack overflow).
#[cfg(target_os = "linux")]
mod sigbus {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Start and end addresses of the mapped files (a diff maps at most two).
    static RANGES: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];
    /// The handler before ours.
    static PREVIOUS: std::sync::OnceLock<Previous> = std::sync::OnceLock::new();

    struct Previous(libc::sigaction);
    // SAFETY: a plain C struct of a handler address, flags and a mask, only read once stored.
    unsafe impl Sync for Previous {}
    unsafe impl Send for Previous {}

    pub(super) fn watch(map: &memmap2::Mmap) {
        let start = map.as_ptr() as usize;
        for slot in [0, 2] {
            if RANGES[slot]
                .compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                RANGES[slot + 1].store(start + map.len(), Ordering::SeqCst);
                break;
            }
        }
        PREVIOUS.get_or_init(|| {
            // SAFETY: zeroed sigactions with an empty mask are valid arguments; the handler
            // makes only async-signal-safe calls (write, _exit, sigaction).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = bail as extern "C" fn(_, _, _) as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                libc::sigaction(libc::SIGBUS, &action, &mut previous);
                Previous(previous)
            }
        });
    }

    extern "C" fn bail(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let at = unsafe { (*info).si_addr() } as usize;
        let ours = [0, 2].iter().any(|&slot| {
            let start = RANGES[slot].load(Ordering::SeqCst);
            start != 0 && (start..RANGES[slot + 1].load(Ordering::SeqCst)).contains(&at)
        });
        if ours {
            const MESSAGE: &[u8] = b"error: a file being compared was truncated while it \
                was read; run the diff again\n";
            // SAFETY: write(2) and _exit(2) are async-signal-safe; MESSAGE is static.
            unsafe {
                libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
                libc::_exit(i32::from(super::exit::FETCH));
            }
        }
        // Not ours: the previous handler back, and the faulting access, retried on return,
        // goes to it.
        if let Some(Previous(previous)) = PREVIOUS.get() {
            // SAFETY: restoring the action the kernel gave us.
            unsafe { libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()) };
        }
    }
}

/// Has glibc's allocator keep the memory it is given back for reuse, instead of returning it
/// to the kernel: by default each block of 128 KiB or more is a mapping of its own, unmapped
/// when freed, and the top of the heap is trimmed as it empties, so a command that allocates
/// in phases (a diff: tokens, tables, ops) pays a page fault for every page of every phase.
/// Page faults are a large part of a short run (a diff of two 1 MB files: a third fewer
/// faults, 8% less time). A diff is short, and its peak is what it keeps; not set for every
/// command, since a long `check` on many threads would keep each thread's peak to its end.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters (under glibc's arena lock); it is called
    // before the command starts any thread. A call may fail (it returns 0): the defaults stay.
    unsafe {
        // Blocks up to 32 MiB (glibc's largest threshold) come from the heap and go back to it.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        // The heap is trimmed only when 256 MiB lie free at its top.
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        // It grows a megabyte at a time (address space only: untouched pages cost nothing).
        libc::mallopt(libc::M_TOP_PAD, 1 << 20);
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    keep_freed_memory();
    if args.format != DiffFormat::Unified {
        // The summary's patterns take about as long to compile as a document takes to read.
        std::thread::spawn(summary::warm_up);
    }
    let reader = Reader {
        client: std::sync::OnceLock::new(),
        timeout: Duration::from_secs(args.timeout),
        max_bytes: args.max_bytes,
        allow_private: args.allow_private,
        // A patch names no hashes.
        hash: args.format != DiffFormat::Unified,
    };
    let (from, to) = if args.against.is_some() || !two_documents(ctx, &args) {
        from_store(ctx, &args, &reader)?
    } else {
        let second = args.second.as_deref().unwrap_or_default();
        let rules = Rules::default();
        let local = |input: &str| matches!(Locator::parse(input, &ctx.cwd), Ok(Locator::File(_)));
        // A patch of two local files: mapped, they take less time to read than a second
        // thread takes to start and end (measured).
        if args.format == DiffFormat::Unified && local(&args.first) && local(second) {
            let first = document(ctx, &args.first, &reader, &rules, None)?;
            return print(
                ctx,
                &args,
                first,
                document(ctx, second, &reader, &rules, None)?,
            );
        }
        // Each document is read, extracted and hashed on its own thread.
        let (first, second) = std::thread::scope(|scope| {
            let first = scope.spawn(|| document(ctx, &args.first, &reader, &rules, None));
            let second = document(ctx, second, &reader, &rules, None);
            (first.join(), second)
        });
        let first = first.map_err(|_| {
            CommandError::new(exit::INTERNAL, "reading the first document failed (a bug)")
        })?;
        (first?, second?)
    };
    print(ctx, &args, from, to)
}

/// Whether the arguments name two documents rather than a source and versions: a second
/// argument that is not a version, or no store to look versions up in.
fn two_documents(ctx: &Context, args: &Args) -> bool {
    match (&args.second, &args.third) {
        (Some(second), None) => VersionSpec::parse(second).is_none() || ctx.store_path().is_err(),
        _ => false,
    }
}

/// Resolves the source and its two sides from the store (the new side may be a fresh copy).
fn from_store(ctx: &Context, args: &Args, reader: &Reader) -> Result<(Side, Side), CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let source = snapshot.resolve(&args.first, &ctx.cwd)?;
    let rules = source.rules().map_err(|e| {
        CommandError::new(exit::STORE, format!("{}: its rules: {e}", source.id))
            .hint(format!("fix them with `verbatim configure {}`", source.id))
    })?;
    let versions = snapshot.versions(&source.id)?;
    let latest = versions
        .last()
        .ok_or_else(|| CommandError::usage(format!("{} has no stored versions", source.id)))?;
    let pick = |spec: &str| -> Result<&VersionRecord, CommandError> {
        let parsed = VersionSpec::parse(spec).ok_or_else(|| {
            CommandError::usage(format!("{spec:?} is not a version"))
                .hint("give a version number (3), a SHA-256 prefix from `verbatim log`, or a date")
        })?;
        parsed.find(&source, &versions)
    };
    if let Some(against) = &args.against {
        let old = match &args.second {
            Some(spec) => pick(spec)?,
            None => match args.at {
                Some(at) => VersionSpec::At(at).find(&source, &versions)?,
                None => latest,
            },
        };
        let old = stored(&snapshot, &source, old, &rules)?;
        let new = document(ctx, against, reader, &rules, Some(&source))?;
        return Ok((old, new));
    }
    let (old, new) = match (&args.second, &args.third, args.at) {
        (Some(a), Some(b), _) => (pick(a)?, pick(b)?),
        (Some(a), None, _) => (pick(a)?, latest),
        (None, _, Some(at)) => (VersionSpec::At(at).find(&source, &versions)?, latest),
        (None, _, None) => {
            let previous = versions.len().checked_sub(2).map(|i| &versions[i]);
            let previous = previous.ok_or_else(|| {
                CommandError::usage(format!(
                    "{} has only one version; there is nothing to compare it with",
                    source.id
                ))
                .hint(format!(
                    "compare it with a fresh copy: `verbatim diff {} --against {}`",
                    source.id, source.locator
                ))
            })?;
            (previous, latest)
        }
    };
    Ok((
        stored(&snapshot, &source, old, &rules)?,
        stored(&snapshot, &source, new, &rules)?,
    ))
}

/// A stored version's text, re-extracted from its bytes with today's rules, as `check` does.
fn stored(
    snapshot: &Snapshot<'_>,
    source: &SourceRecord,
    version: &VersionRecord,
    rules: &Rules,
) -> Result<Side, CommandError> {
    let raw = snapshot.read(&version.raw)?;
    let locator = Locator::parse(&source.locator, std::path::Path::new("/"))?;
    let capture = Capture::from_parts(
        locator,
        version.captured_at,
        raw,
        version.origin.clone(),
        rules,
    );
    let mut side = side_of(capture, rules, format!("v{}", version.version), true);
    side.info.source = Some(source.id.to_string());
    side.info.version = Some(version.version);
    side.info.locator = Some(source.locator.clone());
    if side.info.title.is_none() {
        side.info.title = source.title.clone();
    }
    Ok(side)
}

/// A document read or fetched now, extracted with `rules`; nothing is recorded.
fn document(
    ctx: &Context,
    input: &str,
    reader: &Reader,
    rules: &Rules,
    source: Option<&SourceRecord>,
) -> Result<Side, CommandError> {
    let locator = Locator::parse(input, &ctx.cwd)?;
    let mut side = match &locator {
        // A file's bytes become its text without a copy where they can.
        Locator::File(path)
            if let Some(map) =
                mapped(path, reader.max_bytes).map_err(|e| CommandError::from(e).on(input))? =>
        {
            let captured_at = capture::now();
            let name = path.file_name().and_then(|n| n.to_str());
            let (extracted, borrowed) =
                verbatim::extract::extract_borrowed(&map, None, name, rules);
            // Binary content is compared by its hash, whatever the format.
            let sha256 = (reader.hash || extracted.charset.is_none()).then(|| sha256_hex(&map));
            let label = input.to_owned();
            match borrowed {
                // Not the bytes themselves (HTML, another charset, CRLF line ends).
                None => side_from(extracted, sha256, false, captured_at, rules, label),
                Some(text) => {
                    let stripped = stripped(rules, text);
                    let text_is_bytes = stripped.is_none();
                    let info = DocumentInfo {
                        label,
                        captured_at: Some(captured_at),
                        ..DocumentInfo::default()
                    };
                    let text = stripped.map_or(Text::Mapped(map), Text::Made);
                    side(info, text, sha256, text_is_bytes, None, false)
                }
            }
        }
        Locator::File(path) => {
            let raw = fetch::read_file(path, reader.max_bytes)
                .map_err(|e| CommandError::from(e).on(input))?;
            let captured_at = capture::now();
            let name = path.file_name().and_then(|n| n.to_str());
            // Binary content is compared by its hash, whatever the format.
            let sha256 = (reader.hash || verbatim::extract::is_binary(&raw, None, name))
                .then(|| sha256_hex(&raw));
            let (extracted, same) = verbatim::extract::extract_owned(raw, None, name, rules);
            side_from(
                extracted,
                sha256,
                same,
                captured_at,
                rules,
                input.to_owned(),
            )
        }
        Locator::Http(_) => {
            let capture = capture::capture(&locator, reader.client(), reader.max_bytes, rules)
                .map_err(|e| CommandError::from(e).on(input))?;
            side_of(capture, rules, input.to_owned(), reader.hash)
        }
    };
    side.info.locator = Some(locator.canonical());
    side.info.source = source.map(|s| s.id.to_string());
    Ok(side)
}

fn side_of(capture: Capture, rules: &Rules, label: String, hash: bool) -> Side {
    // Binary content is compared by its hash, whatever the format.
    let binary = capture.extracted.charset.is_none();
    let sha256 = (hash || binary).then(|| sha256_hex(&capture.raw));
    let same = capture.extracted.text.as_bytes() == capture.raw.as_slice();
    side_from(
        capture.extracted,
        sha256,
        same,
        capture.captured_at,
        rules,
        label,
    )
}

/// `text` without the passages the rules ignore, when they take anything out.
fn stripped(rules: &Rules, text: &str) -> Option<String> {
    match rules.strip_ignored(text) {
        std::borrow::Cow::Owned(stripped) => Some(stripped),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

/// A side from its extracted text; `same` says the text is exactly the bytes hashed in
/// `sha256`.
fn side_from(
    extracted: verbatim::extract::Extracted,
    sha256: Option<String>,
    same: bool,
    captured_at: Timestamp,
    rules: &Rules,
    label: String,
) -> Side {
    let binary = extracted.charset.is_none();
    let (text, unstripped) = match stripped(rules, &extracted.text) {
        Some(stripped) => (Text::Made(stripped), false),
        None => (Text::Made(extracted.text), true),
    };
    let info = DocumentInfo {
        label,
        captured_at: Some(captured_at),
        title: extracted.title.clone(),
        ..DocumentInfo::default()
    };
    side(
        info,
        text,
        sha256,
        same && unstripped,
        extracted.title,
        binary,
    )
}

/// A side from its text; `text_is_bytes` says the text is exactly the bytes hashed in
/// `sha256`, so that one hash serves both.
fn side(
    info: DocumentInfo,
    text: Text,
    sha256: Option<String>,
    text_is_bytes: bool,
    title: Option<String>,
    binary: bool,
) -> Side {
    let text_sha256 = match &sha256 {
        Some(sha) if text_is_bytes => Some(sha.clone()),
        Some(_) => Some(sha256_hex(text.as_bytes())),
        None => None,
    };
    Side {
        info: DocumentInfo {
            sha256,
            text_sha256,
            ..info
        },
        title,
        binary,
        text,
    }
}

fn print(ctx: &Context, args: &Args, from: Side, to: Side) -> Result<u8, CommandError> {
    let deadline = super::limits::duration(args.deadline);
    let options = diff::Options {
        granularity: match args.granularity {
            GranularityArg::Word => Granularity::Word,
            GranularityArg::Line => Granularity::Line,
            GranularityArg::Char => Granularity::Char,
        },
        timeout: deadline,
    };
    if from.binary || to.binary {
        return print_binary(ctx, args, &from, &to);
    }
    if args.format == DiffFormat::Unified {
        // A patch needs only lines: no word diff, no summary.
        let mut out = ctx.ui.stdout();
        let (a, b) = unified_names(&from.info, &to.info);
        let differ = *from.text != *to.text;
        let written = printer::diff_unified(
            &mut out,
            &from.text,
            &to.text,
            &a,
            &b,
            args.context.unwrap_or(3),
            deadline,
        );
        let code = output(written.and_then(|()| std::io::Write::flush(&mut out)))?;
        if code != exit::SUCCESS {
            return Ok(code);
        }
        return Ok(if differ {
            exit::FINDINGS
        } else {
            exit::SUCCESS
        });
    }
    // What the summary reads from the texts alone is read on a second thread while the diff
    // is computed: on a long document each takes about half the time.
    let (text_diff, prepared) = std::thread::scope(|scope| {
        let prepared = scope.spawn(|| {
            summary::Prepared::new(
                summary::Side {
                    title: from.title.as_deref(),
                    text: &from.text,
                },
                summary::Side {
                    title: to.title.as_deref(),
                    text: &to.text,
                },
            )
        });
        let text_diff = TextDiff::new(&from.text, &to.text, &options);
        (text_diff, prepared.join())
    });
    let prepared = prepared
        .map_err(|_| CommandError::new(exit::INTERNAL, "the change summary failed (a bug)"))?;
    // Figures on one thread, the counts on this one.
    let (figures, (change_summary, stat)) = std::thread::scope(|scope| {
        let figures = scope.spawn(|| summary::figure_changes(&text_diff));
        let stats = summary::Prepared::finish_with(prepared, &text_diff, Vec::new());
        (figures.join(), stats)
    });
    let mut change_summary = change_summary;
    change_summary.figures = figures
        .map_err(|_| CommandError::new(exit::INTERNAL, "the change summary failed (a bug)"))?;
    let differ = !text_diff.is_empty();
    let report = DiffReport {
        from: from.info,
        to: to.info,
        diff: &text_diff,
        summary: &change_summary,
        stat,
    };
    let mut out = ctx.ui.output(args.format == DiffFormat::Human);
    let written = match args.format {
        DiffFormat::Human => printer::diff_human(
            &mut out,
            &report,
            &ctx.ui.styles(),
            args.context.unwrap_or(1),
            args.stat,
        ),
        DiffFormat::Json | DiffFormat::Unified => printer::diff_json(&mut out, &report),
    };
    let code = output(written.and_then(|()| std::io::Write::flush(&mut out)))?;
    if code != exit::SUCCESS {
        return Ok(code);
    }
    Ok(if differ {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    })
}

/// File names for a unified diff's header. Two versions of one source share a name, so that
/// `git apply` patches one file: `a/<id>.txt` and `b/<id>.txt`, with the versions after a tab
/// as `diff -u` puts timestamps.
fn unified_names(from: &DocumentInfo, to: &DocumentInfo) -> (String, String) {
    let stamp = |d: &DocumentInfo| {
        d.captured_at
            .map(|t| format!("\t{} {t}", d.label))
            .unwrap_or_default()
    };
    match (&from.source, &to.source) {
        (Some(id), _) | (None, Some(id)) => (
            format!("a/{id}.txt{}", stamp(from)),
            format!("b/{id}.txt{}", stamp(to)),
        ),
        (None, None) => (from.label.clone(), to.label.clone()),
    }
}

/// Binary content has no text to compare: say whether the bytes differ.
fn print_binary(ctx: &Context, args: &Args, from: &Side, to: &Side) -> Result<u8, CommandError> {
    // Both sides of binary content are hashed; a text side, unhashed in a patch, differs.
    let same = from.info.sha256.is_some() && from.info.sha256 == to.info.sha256;
    let mut out = ctx.ui.output(args.format == DiffFormat::Human);
    let written = match args.format {
        DiffFormat::Json => serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "from": from.info,
                "to": to.info,
                "binary": true,
                "identical": same,
            }),
        )
        .map_err(std::io::Error::from)
        .and_then(|()| std::io::Write::write_all(&mut out, b"\n")),
        DiffFormat::Human | DiffFormat::Unified => {
            let verb = if same { "are identical" } else { "differ" };
            std::io::Write::write_all(
                &mut out,
                format!(
                    "binary content: the bytes {verb} ({} → {}); there is no text to compare\n",
                    from.info.label, to.info.label
                )
                .as_bytes(),
            )
        }
    };
    let code = output(written.and_then(|()| std::io::Write::flush(&mut out)))?;
    if code != exit::SUCCESS {
        return Ok(code);
    }
    Ok(if same { exit::SUCCESS } else { exit::FINDINGS })
}

/// How a version is named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VersionSpec {
    /// By number: `3` or `v3`.
    Number(u32),
    /// By a prefix of the SHA-256 of its bytes or of its text.
    Hash(String),
    /// The version current at a time.
    At(Timestamp),
}

impl VersionSpec {
    fn parse(text: &str) -> Option<VersionSpec> {
        let digits = text.strip_prefix('v').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().ok().map(VersionSpec::Number);
        }
        if text.len() >= 4 && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(VersionSpec::Hash(text.to_ascii_lowercase()));
        }
        if text.contains('-') {
            return super::show::parse_datetime(text).ok().map(VersionSpec::At);
        }
        None
    }

    fn find<'v>(
        &self,
        source: &SourceRecord,
        versions: &'v [VersionRecord],
    ) -> Result<&'v VersionRecord, CommandError> {
        let id = &source.id;
        match self {
            VersionSpec::Number(n) => versions.iter().find(|v| v.version == *n).ok_or_else(|| {
                CommandError::usage(format!("{id} has no version {n}")).hint(format!(
                    "it has versions 1 to {}; see `verbatim log {id}`",
                    versions.len()
                ))
            }),
            VersionSpec::Hash(prefix) => {
                let matches: Vec<&VersionRecord> = versions
                    .iter()
                    .filter(|v| {
                        v.raw.sha256.starts_with(prefix.as_str())
                            || v.text.sha256.starts_with(prefix.as_str())
                    })
                    .collect();
                match matches.as_slice() {
                    [one] => Ok(one),
                    [] => Err(CommandError::usage(format!(
                        "no version of {id} has a SHA-256 starting with {prefix}"
                    ))
                    .hint(format!("see `verbatim log {id}`"))),
                    many => Err(CommandError::usage(format!(
                        "{prefix} matches versions {} of {id}",
                        many.iter()
                            .map(|v| v.version.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .hint("give more digits, or the version number")),
                }
            }
            VersionSpec::At(at) => versions
                .iter()
                // By capture time, as `show --at` does.
                .filter(|v| v.captured_at <= *at)
                .max_by_key(|v| (v.captured_at, v.version))
                .ok_or_else(|| {
                    let first = versions
                        .first()
                        .map_or("never".to_owned(), |v| v.captured_at.to_string());
                    CommandError::usage(format!("{id} had no version yet at {at}"))
                        .hint(format!("its first capture was at {first}"))
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VersionSpec;

    #[test]
    fn version_specs() {
        assert_eq!(VersionSpec::parse("3"), Some(VersionSpec::Number(3)));
        assert_eq!(VersionSpec::parse("v12"), Some(VersionSpec::Number(12)));
        assert_eq!(
            VersionSpec::parse("E7F9e8"),
            Some(VersionSpec::Hash("e7f9e8".into()))
        );
        assert!(matches!(
            VersionSpec::parse("2024-05-01"),
            Some(VersionSpec::At(_))
        ));
        assert_eq!(VersionSpec::parse("article.txt"), None);
        assert_eq!(VersionSpec::parse("https://example.com/a"), None);
        assert_eq!(VersionSpec::parse("abc"), None);
    }
}
