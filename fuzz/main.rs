//! Fuzzing verbatim's readers of untrusted input on stable Rust (issue 15).
//!
//! `cargo run --example fuzz -- TARGET [--secs N]` mutates a seed corpus (`fuzz/corpus/TARGET/`,
//! and for some targets `seeds/`) and runs each input through the real entry point: HTML
//! extraction and charset detection, the WARC reader, the BagIt validator, the six citation
//! readers, quote matching, and the diff (whose ops applied to the old text must give the new
//! one). A panic, a crash (stack overflow, abort) or an input running past
//! `VERBATIM_FUZZ_TIMEOUT` seconds (quadratic behaviour counts) is a finding: its input is
//! written to `target/fuzz-findings/TARGET/` and the run exits 1. `--replay PATH` runs one file
//! or a directory of them. `docs/fuzzing.md` says why this engine rather than cargo-fuzz or AFL.
//!
//! The inputs run in a child process (this program again, with `--worker`), which reports the
//! index of each input before running it. Inputs are a pure function of the seed, the corpus
//! and the index, so when the child dies — by a panic, by a stack overflow that no
//! `catch_unwind` survives, or killed by the parent's watchdog — the parent rebuilds the input
//! that did it without the child having to save anything.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use verbatim::cite::parse::{Format, parse};
use verbatim::cite::quote::Matcher;
use verbatim::diff::{Granularity, Options, Tag, TextDiff};

const TARGETS: &[&str] = &[
    "extract",
    "warc",
    "bagit",
    "cite-md",
    "cite-html",
    "cite-bib",
    "cite-json",
    "cite-toml",
    "cite-yaml",
    "cite-quote",
    "diff",
];

/// The largest input made: big enough for nesting 100,000 deep, small enough that a linear
/// reader takes well under the per-input timeout in a debug build.
const MAX_INPUT: usize = 1 << 20;

/// The largest `diff` input, but for one in [`DIFF_FULL_SIZE_EVERY`]. An input is diffed in
/// three granularities and every op checked, which in a debug build is mostly tokenizing,
/// hashing and Myers: with every input up to a megabyte the target ran 4 inputs a second. The
/// ops and their rebuilding go wrong, if at all, on small texts as on large ones; size matters
/// for time spent past the deadline, which the full-size inputs keep looking for.
const DIFF_INPUT: usize = 64 << 10;
const DIFF_FULL_SIZE_EVERY: u64 = 8;

/// The largest input a target's input `index` may be.
fn max_input(target: &str, index: u64) -> usize {
    if target == "diff" && !index.is_multiple_of(DIFF_FULL_SIZE_EVERY) {
        DIFF_INPUT
    } else {
        MAX_INPUT
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fuzz: {e}");
            ExitCode::from(2)
        }
    }
}

fn env_u64(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(v) => v.parse().map_err(|_| format!("{name}={v} is not a number")),
        Err(_) => Ok(default),
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let usage = format!(
        "usage: fuzz TARGET [--secs N] [--seed N] | fuzz TARGET --replay PATH (targets: {})",
        TARGETS.join(", ")
    );
    let target = args.first().ok_or(&usage)?.clone();
    if !TARGETS.contains(&target.as_str()) {
        return Err(usage);
    }
    let mut secs = env_u64("VERBATIM_FUZZ_SECS", 20)?;
    let mut seed = env_u64("VERBATIM_FUZZ_SEED", 0)?;
    let timeout = Duration::from_secs(env_u64("VERBATIM_FUZZ_TIMEOUT", 10)?);
    let mut rest = args[1..].iter();
    let mut worker = false;
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--secs" => secs = value()?.parse().map_err(|_| "--secs needs a number")?,
            "--seed" => seed = value()?.parse().map_err(|_| "--seed needs a number")?,
            "--replay" => return replay(&target, Path::new(value()?)),
            "--worker" => worker = true,
            other => return Err(format!("unknown option {other}; {usage}")),
        }
    }
    if seed == 0 {
        // A fresh seed each run finds more over many CI runs; it is printed, so a run can be
        // repeated with --seed.
        seed = u64::from(std::process::id())
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
    }
    let corpus = load_corpus(&target)?;
    if worker {
        return work(&target, &corpus, seed, Duration::from_secs(secs));
    }
    supervise(&target, &corpus, seed, secs, timeout)
}

// ---------------------------------------------------------------------------------------------
// The supervisor
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Progress {
    /// The input the worker is running.
    current: Option<u64>,
    started: Option<Instant>,
    executions: u64,
}

fn supervise(
    target: &str,
    corpus: &[Vec<u8>],
    seed: u64,
    secs: u64,
    timeout: Duration,
) -> Result<ExitCode, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut child = Command::new(exe)
        .args([
            target,
            "--worker",
            "--secs",
            &secs.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the worker: {e}"))?;
    let mut pipe = child.stdout.take().ok_or("the worker has no stdout")?;
    let progress = Arc::new(Mutex::new(Progress::default()));
    let reader = {
        let progress = Arc::clone(&progress);
        std::thread::spawn(move || {
            let mut index = [0u8; 8];
            while pipe.read_exact(&mut index).is_ok() {
                let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
                p.current = Some(u64::from_le_bytes(index));
                p.started = Some(Instant::now());
                p.executions += 1;
            }
        })
    };
    let begun = Instant::now();
    let (status, hung) = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break (Some(status), false);
        }
        let stuck = {
            let p = progress.lock().unwrap_or_else(|e| e.into_inner());
            p.started.is_some_and(|s| s.elapsed() > timeout)
        };
        if stuck {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = reader.join();
    let p = progress.lock().unwrap_or_else(|e| e.into_inner());
    let elapsed = begun.elapsed().as_secs_f64();
    let clean = status.is_some_and(|s| s.success());
    if clean {
        println!(
            "fuzz {target}: {} executions in {elapsed:.1} s ({:.0}/s), seed {seed}, corpus {}: no findings",
            p.executions,
            p.executions as f64 / elapsed,
            corpus.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(index) = p.current else {
        return Err(format!(
            "the worker failed before its first input: {status:?}"
        ));
    };
    let kind = if hung {
        format!("hang (over {} s)", timeout.as_secs())
    } else {
        format!("crash ({status:?})")
    };
    let input = make_input(target, corpus, seed, index);
    let dir = PathBuf::from("target/fuzz-findings").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!(
        "{}-{seed}-{index}",
        if hung { "hang" } else { "crash" }
    ));
    std::fs::write(&path, &input).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let shown: String = String::from_utf8_lossy(&input[..input.len().min(300)])
        .chars()
        .flat_map(char::escape_debug)
        .collect();
    println!(
        "fuzz {target}: FINDING after {} executions in {elapsed:.1} s: {kind}, seed {seed}, input {index} ({} bytes)\n  reproducer: {}\n  replay:     cargo run --example fuzz -- {target} --replay {}\n  input:      \"{shown}\"{}",
        p.executions,
        input.len(),
        path.display(),
        path.display(),
        if input.len() > 300 { "…" } else { "" }
    );
    Ok(ExitCode::FAILURE)
}

/// Runs inputs until the time is up, telling the supervisor each input's index first.
fn work(target: &str, corpus: &[Vec<u8>], seed: u64, budget: Duration) -> Result<ExitCode, String> {
    let mut out = std::io::stdout().lock();
    let mut scratch = Scratch::new()?;
    let begun = Instant::now();
    let mut index = 0u64;
    while begun.elapsed() < budget {
        let input = make_input(target, corpus, seed, index);
        out.write_all(&index.to_le_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot report progress: {e}"))?;
        // A panic ends the worker with an error status, which the supervisor reports.
        run_target(target, &input, &mut scratch);
        index += 1;
    }
    Ok(ExitCode::SUCCESS)
}

fn replay(target: &str, path: &Path) -> Result<ExitCode, String> {
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            if entry.path().is_file() {
                files.push(entry.path());
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut scratch = Scratch::new()?;
    for file in files {
        let input = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let begun = Instant::now();
        run_target(target, &input, &mut scratch);
        println!(
            "{}: {} bytes in {:?}",
            file.display(),
            input.len(),
            begun.elapsed()
        );
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/// Where the targets that read files write their input.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Result<Scratch, String> {
        Ok(Scratch {
            dir: tempfile::tempdir().map_err(|e| format!("cannot make a scratch dir: {e}"))?,
        })
    }
}

fn run_target(target: &str, input: &[u8], scratch: &mut Scratch) {
    match target {
        "extract" => extract(input),
        "warc" => warc(input, scratch),
        "bagit" => bagit(input, scratch),
        "cite-md" => cite(Format::Markdown, input),
        "cite-html" => cite(Format::Html, input),
        "cite-bib" => cite(Format::Bibtex, input),
        "cite-json" => cite(Format::CslJson, input),
        "cite-toml" => cite(Format::Toml, input),
        "cite-yaml" => cite(Format::Yaml, input),
        "cite-quote" => quote(input),
        "diff" => diff(input),
        _ => unreachable!("targets are checked against TARGETS"),
    }
}

/// The first byte picks what the server declared, so that every path through charset
/// detection (header, meta, BOM, statistics) and media typing is taken.
fn extract(input: &[u8]) {
    let (declared, body) = input
        .split_first()
        .map_or((0, input), |(b, rest)| (*b, rest));
    let content_type = match declared % 6 {
        0 => None,
        1 => Some("text/html"),
        2 => Some("text/html; charset=windows-1252"),
        3 => Some("text/plain; charset=utf-16le"),
        4 => Some("text/plain"),
        _ => Some("application/xhtml+xml; charset=shift_jis"),
    };
    let name = (declared & 0x80 != 0).then_some("page.html");
    let extracted = verbatim::extract::extract(body, content_type, name);
    let _ = verbatim::extract::is_binary(body, content_type, name);
    let html = String::from_utf8_lossy(body);
    let _ = verbatim::extract::article_text(&html);
    let _ = verbatim::extract::learn_noise(&extracted.text, &html);
}

fn warc(input: &[u8], scratch: &mut Scratch) {
    let path = scratch.dir.path().join("input.warc");
    if std::fs::write(&path, input).is_err() {
        return;
    }
    // Trusted, so every target kind reaches the code past the locator check.
    let options = verbatim::formats::warc::read::Options {
        max_bytes: 1 << 20,
        trusted: true,
    };
    let _ = verbatim::formats::warc::read::read_warc(&path, options, &mut |_| {});
}

/// The files of a bag, in the order the input's NUL-separated parts fill them.
const BAG_FILES: &[&str] = &[
    "bagit.txt",
    "manifest-sha256.txt",
    "bag-info.txt",
    "data/a.txt",
    "tagmanifest-sha256.txt",
    "manifest-md5.txt",
    "fetch.txt",
    "data/sub dir/b%20c.txt",
];

fn bagit(input: &[u8], scratch: &mut Scratch) {
    let bag = scratch.dir.path().join("bag");
    let _ = std::fs::remove_dir_all(&bag);
    let mut parts = input.split(|b| *b == 0);
    for name in BAG_FILES {
        let Some(part) = parts.next() else { break };
        let path = bag.join(name);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(path, part);
    }
    let _ = verbatim::formats::bagit::validate::validate(&bag);
}

fn cite(format: Format, input: &[u8]) {
    let _ = parse(format, &String::from_utf8_lossy(input), "fuzz");
}

/// A source's text and a quote, around the input's first NUL (or its halves): the quote looked
/// up as `cite check` does, exactly, canonically and approximately, and its passage written
/// out; a passage must be a range of the text.
fn quote(input: &[u8]) {
    let (text, quote) = match input.iter().position(|b| *b == 0) {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => input.split_at(input.len() / 2),
    };
    let (text, quote) = (
        String::from_utf8_lossy(text),
        String::from_utf8_lossy(quote),
    );
    let matcher = Matcher::new(&text);
    let m = matcher.find(&quote);
    if let Some(passage) = &m.passage {
        assert!(matcher.text().get(passage.clone()).is_some(), "{passage:?}");
    }
    for piece in &m.pieces {
        assert!(
            matcher.text().get(piece.range.clone()).is_some(),
            "{piece:?}"
        );
    }
    let _ = matcher.passage(&m);
    let _ = matcher.find_standing(&quote);
}

/// The deadline of each of the three diffs of an input. A hard alignment (one run of
/// thousands of tokens, changed all through) spends its share of the deadline in Myers; with
/// [`DIFF_INPUT`], this took the target from 4 inputs a second (2 s, every input up to a
/// megabyte) to 15. Past the deadline a diff is approximate, and must be just as correct; a
/// diff that still runs into the fuzzer's timeout, at forty times this, spends its time
/// outside the alignment the deadline bounds.
const DIFF_DEADLINE: Duration = Duration::from_millis(250);

/// The two texts are the input's halves around its first NUL; in every granularity, the ops
/// must cover both texts in order, and applying them to the old text must give the new.
fn diff(input: &[u8]) {
    let (old, new) = match input.iter().position(|b| *b == 0) {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => input.split_at(input.len() / 2),
    };
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    for granularity in [Granularity::Word, Granularity::Line, Granularity::Char] {
        let options = Options {
            granularity,
            timeout: DIFF_DEADLINE,
        };
        let d = TextDiff::new(&old, &new, &options);
        assert_eq!(
            d.apply(),
            new,
            "{granularity:?}: the ops do not rebuild the new text"
        );
        let (mut o, mut n) = (0, 0);
        for op in d.ops() {
            assert_eq!(
                (op.old.start, op.new.start),
                (o, n),
                "{granularity:?}: a gap"
            );
            match op.tag {
                Tag::Equal => assert_eq!(old[op.old.clone()], new[op.new.clone()]),
                Tag::Delete => assert!(op.new.is_empty()),
                Tag::Insert => assert!(op.old.is_empty()),
            }
            (o, n) = (op.old.end, op.new.end);
        }
        assert_eq!(
            (o, n),
            (old.len(), new.len()),
            "{granularity:?}: not covered"
        );
        let _ = d.paragraphs();
        let _ = d.changes();
    }
}

// ---------------------------------------------------------------------------------------------
// Corpus and mutations
// ---------------------------------------------------------------------------------------------

fn load_corpus(target: &str) -> Result<Vec<Vec<u8>>, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("fuzz/corpus").join(target)];
    if matches!(target, "extract" | "diff" | "cite-md") {
        dirs.push(root.join("seeds"));
    }
    let mut files = Vec::new();
    for dir in dirs {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    // Sorted, so that an index names the same input in the worker and the supervisor.
    files.sort();
    let mut corpus = Vec::new();
    for file in files {
        corpus.push(std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?);
    }
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    Ok(corpus)
}

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Markup that nests, or that readers treat specially: inserted, and repeated thousands of
/// times to look for depth and quadratic behaviour.
const TOKENS: &[&[u8]] = &[
    b"<div>",
    b"<span>",
    b"<b>",
    b"<blockquote>",
    b"<a href=\"https://a.example/\">",
    b"</a>",
    b"<q cite=\"https://a.example/\">",
    b"<time>2024-01-02</time>",
    b"<svg>",
    b"<p>",
    b"<li>",
    b"<table>",
    b"<!--",
    b"-->",
    b"<script>",
    b"</div>",
    b"{",
    b"}",
    b"[",
    b"]",
    b"{{a}}",
    b"> ",
    b"- ",
    b"* ",
    b"[x](https://a.example/)",
    b"[^1]",
    b"\"",
    b"\xe2\x80\x9c",
    b"\xe2\x80\x9d",
    b"@misc{a,",
    b"url = {https://a.example/},",
    b"\\url{",
    b"\n",
    b"\r\n",
    b"\n\n",
    b" ",
    b"\t",
    b"WARC/1.1\r\n",
    b"Content-Length: 10\r\n",
    b"WARC-Type: response\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"\r\n\r\n",
    b"0\r\n",
    b"ffffffff\r\n",
    b"&amp;",
    b"&#97;",
    b"\0",
    b"../",
    b"data/",
    b"Payload-Oxum: 1.1\n",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xc3",
    b"<meta charset=\"utf-16\">",
    b"&",
    b"*a",
    b"&a ",
    b"? ",
    b": ",
    b"'",
    b"\\",
    b"ignored ",
    b"\xe2\x80\xa6",
    b"...",
    b". . .",
    b"[\xe2\x80\xa6]",
    b"[...] ",
    b" a ",
];

fn make_input(target: &str, corpus: &[Vec<u8>], seed: u64, index: u64) -> Vec<u8> {
    let mut rng = Rng(seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let limit = max_input(target, index);
    let mut data = corpus[rng.below(corpus.len())].clone();
    data.truncate(limit);
    for _ in 0..1 + rng.below(4) {
        mutate(&mut data, corpus, &mut rng, limit);
        data.truncate(limit);
    }
    data
}

fn mutate(data: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut Rng, limit: usize) {
    let at = rng.below(data.len() + 1);
    match rng.below(10) {
        0 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] ^= 1 << rng.below(8);
        }
        1 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] = [0, 0x7f, 0x80, 0xff, b'<', b'>', b'{', b'\n', b'"', b':'][rng.below(10)];
        }
        2 if !data.is_empty() => {
            let len = rng.below((data.len() - at.min(data.len())).min(256) + 1);
            data.drain(at.min(data.len())..(at + len).min(data.len()));
        }
        3 if !data.is_empty() => {
            // Duplicate a range in place.
            let start = rng.below(data.len());
            let len = rng.below((data.len() - start).min(4096) + 1);
            let copy = data[start..start + len].to_vec();
            data.splice(at..at, copy);
        }
        4 => {
            // Splice: the head of this input, the tail of another.
            let other = &corpus[rng.below(corpus.len())];
            let from = rng.below(other.len() + 1);
            data.truncate(at);
            data.extend_from_slice(&other[from..]);
        }
        5 | 6 => {
            let token = TOKENS[rng.below(TOKENS.len())];
            data.splice(at..at, token.iter().copied());
        }
        7 => {
            // Nesting amplification: one token, thousands of times.
            let token = TOKENS[rng.below(TOKENS.len())];
            let times = [10, 300, 3_000, 30_000, 100_000][rng.below(5)];
            let times = times.min(limit / token.len().max(1));
            data.splice(at..at, token.repeat(times));
        }
        8 => {
            // A huge line.
            let byte = [b'a', b' ', b'-', b'.', 0xe2][rng.below(5)];
            let len = (1 + rng.below(200_000)).min(limit);
            data.splice(at..at, std::iter::repeat_n(byte, len));
        }
        _ => {
            let len = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
    }
}

/// Every fixed finding (`fuzz/corpus/TARGET/crashes/`) replayed through its target by
/// `cargo test`: a reproducer that crashes again aborts the test binary, and one that panics or
/// runs past the fuzzer's default timeout fails the test. Open findings wait in `crashes/open/`,
/// which is not replayed; the fix moves its reproducer up a level.
#[cfg(test)]
mod tests {
    use super::*;

    /// The stack of the fuzzer's worker, which runs inputs on its main thread (the usual 8 MiB
    /// limit), rather than a test thread's 2 MiB.
    const WORKER_STACK: usize = 8 << 20;

    #[test]
    fn committed_findings_no_longer_fail_their_target() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut replayed = 0;
        for target in TARGETS {
            let dir = root.join(target).join("crashes");
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .map(|e| e.expect("a readable corpus directory").path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for file in files {
                let input = std::fs::read(&file).expect("a readable reproducer");
                let target = target.to_string();
                let begun = Instant::now();
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn(move || {
                        run_target(&target, &input, &mut Scratch::new().expect("scratch"))
                    })
                    .expect("spawn a replay thread")
                    .join()
                    .unwrap_or_else(|_| panic!("{} panicked again", file.display()));
                let took = begun.elapsed();
                assert!(
                    took < Duration::from_secs(10),
                    "{} took {took:?}, past the fuzzer's timeout",
                    file.display()
                );
                replayed += 1;
            }
        }
        assert!(
            replayed > 0,
            "no reproducers found under {}",
            root.display()
        );
    }
}
