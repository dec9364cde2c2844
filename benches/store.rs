//! Store benchmark: throughput of capturing versions, store size before and after packing, and the
//! cost of one commit in a small store against a large one — each beside stock git doing the same
//! work in the same run.
//!
//! Run: `cargo bench --bench store` (release build). Sizes can be lowered for a quick look:
//! `BENCH_SOURCES=1000 BENCH_BIG=10000 cargo bench --bench store`. Results are printed as
//! markdown tables for docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use verbatim::capture::{Capture, Origin};
use verbatim::source::Locator;
use verbatim::store::Store;
use verbatim::{capture, extract};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A deterministic word generator, so every run writes the same corpus.
struct Words(u64);

const VOCABULARY: &[&str] = &[
    "the",
    "agency",
    "contract",
    "renewed",
    "data",
    "surveillance",
    "immigration",
    "company",
    "report",
    "documents",
    "according",
    "officials",
    "million",
    "program",
    "system",
    "records",
    "federal",
    "public",
    "analysis",
    "investigation",
    "raids",
    "families",
    "court",
    "policy",
    "technology",
    "said",
    "statement",
    "database",
    "license",
    "network",
    "police",
    "2019",
    "2020",
    "percent",
    "$49,874,018",
    "Palantir",
    "ICE",
    "HSI",
    "Mijente",
    "Motherboard",
];

impl Words {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn text(&mut self, bytes: usize) -> Vec<String> {
        let mut words = Vec::new();
        let mut len = 0;
        while len < bytes {
            let w = VOCABULARY[self.next() as usize % VOCABULARY.len()];
            let w = if self.next().is_multiple_of(7) {
                format!("{w}{}", self.next() % 1000)
            } else {
                w.to_owned()
            };
            len += w.len() + 1;
            words.push(w);
        }
        words
    }
}

fn render(words: &[String]) -> Vec<u8> {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        out.push_str(w);
        out.push(if i % 120 == 119 { '\n' } else { ' ' });
    }
    out.into_bytes()
}

fn capture_of(i: usize, bytes: Vec<u8>) -> Capture {
    let path = format!("/bench/source-{i:06}.txt");
    Capture {
        locator: Locator::parse(&path, Path::new("/")).expect("absolute path parses"),
        captured_at: capture::now(),
        extracted: extract::extract(&bytes, None, Some(&path)),
        raw: bytes,
        origin: Origin::File { path },
        from_content: false,
    }
}

fn write_batch(store: &Store, captures: &[Capture]) {
    let lock = store
        .lock(Duration::from_secs(60), &mut |_| {})
        .expect("lock");
    let mut tx = store.transaction(&lock).expect("transaction");
    for c in captures {
        tx.record(c, None).expect("record");
    }
    tx.commit("bench").expect("commit");
}

fn du(path: &Path) -> u64 {
    let out = Command::new("du")
        .arg("-sk")
        .arg(path)
        .output()
        .expect("du");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|k| k.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@localhost")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@localhost")
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// The corpus of phase A: `sources` texts of ~20 KB, and a second version of each with about 1%
/// of the words replaced.
fn corpus(sources: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut words_rng = Words(42);
    let first: Vec<Vec<String>> = (0..sources).map(|_| words_rng.text(20_000)).collect();
    let second = first
        .iter()
        .map(|words| {
            let mut words = words.clone();
            for _ in 0..words.len() / 100 {
                let at = words_rng.next() as usize % words.len();
                words[at] = format!("edited{}", words_rng.next() % 100);
            }
            render(&words)
        })
        .collect();
    (first.iter().map(|w| render(w)).collect(), second)
}

/// verbatim: both passes in batches; returns the two times and sizes before and after `git gc`.
fn verbatim_passes(
    dir: &Path,
    passes: &[&Vec<Vec<u8>>],
    batch: usize,
    fsync: bool,
) -> (Vec<Duration>, u64, u64) {
    let mut store = Store::init(dir).expect("init");
    store.set_fsync(fsync);
    let mut times = Vec::new();
    for pass in passes {
        let start = Instant::now();
        for (n, chunk) in pass.chunks(batch).enumerate() {
            let caps: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, b)| capture_of(n * batch + i, b.clone()))
                .collect();
            write_batch(&store, &caps);
        }
        times.push(start.elapsed());
    }
    let loose = du(dir);
    git(dir, &["gc", "--quiet"]);
    (times, loose, du(dir))
}

/// The peer: stock git committing the same files from a work tree, one commit per pass.
fn git_passes(dir: &Path, passes: &[&Vec<Vec<u8>>], config: &[&str]) -> (Vec<Duration>, u64) {
    std::fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q", "-b", "main"]);
    let mut times = Vec::new();
    for pass in passes {
        for (k, bytes) in pass.iter().enumerate() {
            let sub = dir.join(format!("{:02x}", k % 256));
            std::fs::create_dir_all(&sub).expect("mkdir");
            std::fs::write(sub.join(format!("{k:06}.txt")), bytes).expect("write");
        }
        let start = Instant::now();
        git(dir, &[config, &["add", "-A"]].concat());
        git(dir, &[config, &["commit", "-q", "-m", "pass"]].concat());
        times.push(start.elapsed());
    }
    (times, du(&dir.join(".git")))
}

/// Phase A: many ~20 KB sources, then a new version of each, beside stock git.
fn throughput(root: &Path, sources: usize, batch: usize) {
    let (first, second) = corpus(sources);
    let avg = first.iter().map(Vec::len).sum::<usize>() / sources.max(1);
    let passes = [&first, &second];
    let (ours, loose, packed) = verbatim_passes(&root.join("throughput"), &passes, batch, true);
    let (ours_nosync, _, _) =
        verbatim_passes(&root.join("throughput-nosync"), &passes, batch, false);
    let (peer, peer_size) = git_passes(&root.join("git-throughput"), &passes, &[]);
    let (peer_sync, _) = git_passes(
        &root.join("git-throughput-fsync"),
        &passes,
        &["-c", "core.fsync=all", "-c", "core.fsyncMethod=fsync"],
    );

    println!(
        "\n### Throughput: {sources} sources of ~{} KB (verbatim: batches of {batch} per commit)\n",
        avg / 1024
    );
    println!(
        "| pass | verbatim, fsync on (default) | stock git, core.fsync=all | verbatim, fsync off | stock git, default config |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    let rate = |t: Duration| {
        format!(
            "{:.1} s, {:.0} versions/s",
            t.as_secs_f64(),
            sources as f64 / t.as_secs_f64()
        )
    };
    for (i, name) in [
        "first version of each",
        "second version of each (~1% of words changed)",
    ]
    .iter()
    .enumerate()
    {
        println!(
            "| {name} | {} | {} | {} | {} |",
            rate(ours[i]),
            rate(peer_sync[i]),
            rate(ours_nosync[i]),
            rate(peer[i])
        );
    }
    println!("\n| store size | on disk |");
    println!("| --- | ---: |");
    println!(
        "| captured bytes, both versions (raw only) | {} |",
        mib((avg * sources * 2) as u64)
    );
    println!(
        "| verbatim store before packing (loose objects) | {} |",
        mib(loose)
    );
    println!("| verbatim store after stock `git gc` | {} |", mib(packed));
    println!(
        "| stock git repository of the same files, before packing | {} |",
        mib(peer_size)
    );
}

/// Builds a store of `n` ~1 KB sources quickly (large batches, fsync off for set-up only).
fn small_store(dir: &Path, n: usize) -> Store {
    let mut store = Store::init(dir).expect("init");
    store.set_fsync(false);
    let mut words_rng = Words(7);
    let mut i = 0;
    while i < n {
        let end = (i + 10_000).min(n);
        let caps: Vec<_> = (i..end)
            .map(|k| capture_of(k, render(&words_rng.text(1_000))))
            .collect();
        write_batch(&store, &caps);
        i = end;
    }
    store.set_fsync(true);
    store
}

/// The cost of one new version in one commit (lock, record, commit), `reps` times.
fn single_commits(store: &Store, n: usize, reps: usize) -> Vec<Duration> {
    let mut words_rng = Words(99);
    (0..reps)
        .map(|r| {
            let cap = capture_of((r * 7919) % n, render(&words_rng.text(1_000)));
            let start = Instant::now();
            write_batch(store, std::slice::from_ref(&cap));
            start.elapsed()
        })
        .collect()
}

/// The peer: a stock git work tree of `n` ~1 KB files; one changed file added and committed.
fn git_peer(dir: &Path, n: usize, reps: usize) -> Vec<Duration> {
    std::fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q", "-b", "main"]);
    let mut words_rng = Words(7);
    for k in 0..n {
        let sub = dir.join(format!("{:02x}", k % 256));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(
            sub.join(format!("{k:06}.txt")),
            render(&words_rng.text(1_000)),
        )
        .expect("write");
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "setup"]);
    let mut words_rng = Words(99);
    (0..reps)
        .map(|r| {
            let k = (r * 7919) % n;
            let rel = format!("{:02x}/{k:06}.txt", k % 256);
            std::fs::write(dir.join(&rel), render(&words_rng.text(1_000))).expect("write");
            let start = Instant::now();
            git(dir, &["add", &rel]);
            git(dir, &["commit", "-q", "-m", "one version"]);
            start.elapsed()
        })
        .collect()
}

fn scaling(root: &Path, small: usize, big: usize, reps: usize) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut rows = Vec::new();
    for n in [small, big] {
        let store = small_store(&root.join(format!("scale-{n}")), n);
        let mut ours = single_commits(&store, n, reps);
        let mut peer = git_peer(&root.join(format!("git-{n}")), n, reps);
        rows.push((
            n,
            percentile(&mut ours, 0.5),
            percentile(&mut ours, 0.9),
            percentile(&mut peer, 0.5),
            percentile(&mut peer, 0.9),
        ));
    }
    println!(
        "\n### One new version in one commit (~1 KB sources, {reps} commits each, fsync on)\n"
    );
    println!(
        "| sources in store | verbatim median | verbatim p90 | stock git add+commit median | stock git p90 |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for (n, m, p, gm, gp) in &rows {
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            ms(*m),
            ms(*p),
            ms(*gm),
            ms(*gp)
        );
    }
    let ratio = ms(rows[1].1) / ms(rows[0].1);
    let peer_ratio = ms(rows[1].3) / ms(rows[0].3);
    println!(
        "\nRatio {big} : {small} sources — verbatim {ratio:.2}x (target < 2), stock git {peer_ratio:.2}x"
    );
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sources = env_usize("BENCH_SOURCES", 10_000);
    let batch = env_usize("BENCH_BATCH", 1_000);
    let small = env_usize("BENCH_SMALL", 100);
    let big = env_usize("BENCH_BIG", 100_000);
    let reps = env_usize("BENCH_REPS", 30);
    let root: PathBuf =
        std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let root = tempfile::Builder::new()
        .prefix("verbatim-bench")
        .tempdir_in(root)
        .expect("temp dir");
    println!(
        "benchmark dir: {} ({} cores)",
        root.path().display(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    throughput(root.path(), sources, batch);
    scaling(root.path(), small, big, reps);
}
