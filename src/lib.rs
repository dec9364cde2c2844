//! verbatim audits documents over time.
//!
//! Sources (web pages and local files) are captured — exact bytes, extracted text and fetch
//! metadata, hashed with SHA-256 — into a git-backed [`store`] that stock git can read.
//! Data flows [`fetch`] → [`extract`] → [`capture`] → [`store`]; nothing here prints.

#![deny(missing_docs)]
// Unsafe code lives only where it is allowed below, each for a reason `docs/architecture.md`
// gives: libgit2's process-wide options and syncfs (`git`), the SIMD hash (`hash::twin`), the
// allocator's settings (`sys`), one conversion in extraction, and mapping long files for a
// patch (`fetch::mapped`).
#![deny(unsafe_code)]

pub mod capture;
pub mod check;
pub mod cite;
pub mod classify;
pub mod demo;
pub mod diff;
pub mod extract;
pub mod fetch;
pub mod formats;
#[allow(unsafe_code)]
mod git;
pub mod hash;
pub mod model;
pub mod ops;
mod pool;
pub mod report;
pub mod source;
pub mod store;
pub mod sys;
pub mod text;
pub mod verify;
