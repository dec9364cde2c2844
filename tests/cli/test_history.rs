//! Reading history: log in both formats, show by version and by time, prefixes, closed pipes.

use std::io::Read as _;
use std::process::Stdio;
use std::time::Duration;

use crate::common::TestEnv;

#[test]
fn log_and_show_walk_the_versions() {
    let env = TestEnv::with_store();
    let path = env.write("doc.txt", b"first version\n");
    let p = path.to_str().expect("utf-8");
    env.run(&["add", p]).ok();
    std::thread::sleep(Duration::from_millis(30));
    env.write("doc.txt", b"second, longer version\n");
    env.run(&["add", p]).ok();
    std::thread::sleep(Duration::from_millis(30));
    env.write("doc.txt", b"third\n");
    env.run(&["add", p]).ok();

    let log: serde_json::Value =
        serde_json::from_str(&env.run(&["log", "doc.txt", "--format", "json"]).ok().stdout)
            .expect("json");
    let log = log.as_array().expect("array");
    assert_eq!(
        log.iter()
            .map(|v| v["version"].as_u64())
            .collect::<Vec<_>>(),
        [Some(1), Some(2), Some(3)]
    );
    assert_eq!(
        log.iter()
            .map(|v| v["bytes_delta"].as_i64())
            .collect::<Vec<_>>(),
        [Some(14), Some(9), Some(-17)]
    );
    assert_eq!(log[0]["origin"]["kind"], "file");

    // Human log: newest first, with the change in size.
    let human = env.run(&["log", "doc.txt"]).ok().stdout;
    let rows: Vec<&str> = human.lines().skip(2).collect();
    assert_eq!(rows.len(), 3, "{human}");
    assert!(
        rows[0].trim_start().starts_with('3') && rows[0].trim_end().ends_with("-17"),
        "{human}"
    );
    assert!(rows[1].trim_end().ends_with("+9"), "{human}");
    assert!(rows[2].trim_end().ends_with("new"), "{human}");

    // --at picks the version current at a time between captures.
    let t2: jiff::Timestamp = log[1]["captured_at"]
        .as_str()
        .expect("time")
        .parse()
        .expect("rfc3339");
    let t3: jiff::Timestamp = log[2]["captured_at"]
        .as_str()
        .expect("time")
        .parse()
        .expect("rfc3339");
    let between =
        jiff::Timestamp::from_microsecond((t2.as_microsecond() + t3.as_microsecond()) / 2)
            .expect("in range");
    let at = env
        .run(&["show", "doc.txt", "--at", &between.to_string()])
        .ok();
    assert_eq!(at.stdout, "second, longer version\n");
    assert_eq!(
        env.run(&["show", "doc.txt", "--at", &t3.to_string()])
            .ok()
            .stdout,
        "third\n"
    );
    assert_eq!(
        env.run(&["show", "doc.txt", "--version", "1"]).ok().stdout,
        "first version\n"
    );
    assert_eq!(env.run(&["show", "doc.txt"]).ok().stdout, "third\n");

    // An id prefix of four digits names the source.
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    let id = list[0]["id"].as_str().expect("id");
    assert_eq!(
        env.run(&["show", &id[..4], "--version", "2"]).ok().stdout,
        "second, longer version\n"
    );
    let human_list = env.run(&["list"]).ok().stdout;
    assert!(
        human_list
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(id) && l.contains(" 3 ")),
        "{human_list}"
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let env = TestEnv::with_store();
    let big = env.write("big.txt", "line of text\n".repeat(200_000).as_bytes());
    env.run(&["add", big.to_str().expect("utf-8")]).ok();
    let mut child = env
        .command()
        .args(["show", "big.txt"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 10];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("read");
    // The reader goes away, as `| head -c 10` would.
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn colour_only_when_asked() {
    let env = TestEnv::with_store();
    let f = env.write("a.txt", b"a");
    env.run(&["add", f.to_str().expect("utf-8")]).ok();
    assert!(!env.run(&["list"]).ok().stdout.contains('\u{1b}'));
    assert!(
        env.run(&["--color", "always", "list"])
            .ok()
            .stdout
            .contains('\u{1b}')
    );
    assert!(
        !env.run(&["--color", "never", "list"])
            .ok()
            .stdout
            .contains('\u{1b}')
    );
}

#[test]
fn an_ambiguous_prefix_names_the_candidates() {
    let env = TestEnv::with_store();
    let paths: Vec<String> = (0..40)
        .map(|i| {
            env.write(&format!("f{i}.txt"), b"x")
                .to_str()
                .expect("utf-8")
                .to_owned()
        })
        .collect();
    let mut args = vec!["add"];
    args.extend(paths.iter().map(String::as_str));
    env.run(&args).ok();
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    let ids: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    // 40 ids over 16 possible first digits: some first digit is shared.
    let shared = ids
        .iter()
        .map(|id| &id[..1])
        .find(|p| ids.iter().filter(|id| id.starts_with(p)).count() > 1)
        .expect("pigeonhole");
    let run = env.run(&["log", shared]).fails_with(2);
    assert!(run.stderr.contains("ambiguous"), "{}", run.stderr);
    let named = ids
        .iter()
        .filter(|id| id.starts_with(shared))
        .filter(|id| run.stderr.contains(*id))
        .count();
    assert!(named >= 2, "{}", run.stderr);
}
