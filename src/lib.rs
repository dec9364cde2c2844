//! verbatim audits documents over time.
//!
//! Sources (web pages and local files) are captured — exact bytes, extracted text and fetch
//! metadata, hashed with SHA-256 — into a git-backed [`store`] that stock git can read.
//! Data flows [`fetch`] → [`extract`] → [`capture`] → [`store`]; nothing here prints.

#![deny(missing_docs)]

pub mod capture;
pub mod check;
pub mod cite;
pub mod classify;
pub mod diff;
pub mod export;
pub mod extract;
pub mod fetch;
pub mod hash;
pub mod import;
pub mod report;
pub mod source;
pub mod store;
pub mod text;
pub mod verify;
