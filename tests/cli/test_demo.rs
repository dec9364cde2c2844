//! `verbatim demo`: the README's first command runs end to end with no network.

use crate::common::TestEnv;

#[test]
fn demo_tells_the_whole_story() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--dir", "demo-store"]).ok();
    let verdicts: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == "added").count(),
        5,
        "{}",
        run.stdout
    );
    assert_eq!(
        verdicts.iter().filter(|v| **v == "edited").count(),
        3,
        "{}",
        run.stdout
    );
    assert_eq!(
        verdicts.iter().filter(|v| **v == "retracted").count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("checked 5 sources: 5 cosmetic"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("checked 5 sources: 1 cosmetic, 3 edited, 1 retracted"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("== 4. Explore"), "{}", run.stderr);
    // The store it leaves is a real one.
    let store = env.path().join("demo-store");
    let fsck = std::process::Command::new("git")
        .arg("-C")
        .arg(&store)
        .args(["fsck", "--full", "--no-progress"])
        .status()
        .expect("git fsck");
    assert!(fsck.success());
    let list: serde_json::Value = serde_json::from_str(
        &env.run(&["--store", "demo-store", "list", "--format", "json"])
            .ok()
            .stdout,
    )
    .expect("list json");
    let versions: Vec<u64> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["versions"].as_u64().expect("versions"))
        .collect();
    assert_eq!(versions.iter().filter(|v| **v == 2).count(), 3, "{list}");
    // A second demo into the same directory refuses to overwrite it.
    assert_eq!(env.run(&["demo", "--dir", "demo-store"]).code, 3);
}
