//! Hostile input and faults (issue 15): numbers on the command line, special files, locators
//! from content, terminal escapes in what content says, and what a broken environment gets.

use crate::common::TestEnv;

#[test]
fn numbers_out_of_range_are_refused_by_the_parser_not_a_panic() {
    let env = TestEnv::with_store();
    let file = env.write("a.txt", b"An article.\n");
    let path = file.display().to_string();
    for args in [
        vec!["check", "--jobs", "18446744073709551615"],
        vec!["check", "--jobs", "1000000000"],
        vec!["check", "--jobs", "100000"],
        vec!["check", "--jobs", "0"],
        vec!["check", "--timeout", "0"],
        vec!["check", "--max-bytes", "18446744073709551615"],
        vec!["add", "--retries", "4294967296", path.as_str()],
        vec!["diff", "--deadline", "1e19", path.as_str(), path.as_str()],
        vec!["diff", "--deadline", "NaN", path.as_str(), path.as_str()],
        vec!["--lock-timeout", "1e300", "list"],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.starts_with("error: invalid value"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // The largest accepted worker count on a one-source store starts one worker, and works.
    env.run(&["add", path.as_str()]).ok();
    env.run(&["check", "--jobs", "256"]).ok();
}
