//! End-to-end tests: the real `verbatim` binary in temporary directories, against real files, a
//! real git, and HTTP servers on loopback.

mod common;
mod test_add;
mod test_baseline;
mod test_check;
mod test_cite;
mod test_demo;
mod test_diff;
mod test_encoding;
mod test_export;
mod test_fetching;
mod test_formats;
mod test_gc;
mod test_git;
mod test_history;
mod test_hostile;
mod test_inputs;
mod test_kill;
mod test_noise;
mod test_rules;
mod test_seeds;
mod test_snapshots;
mod test_verify;
