//! The archive formats archivists check with their own tools, one module per format, both
//! directions in it: [`warc`] (ISO 28500) is read by `import` and written by `export`; [`bagit`]
//! (RFC 8493) is written by `export` and validated by `verify --bagit`.
//!
//! A format module knows the format's bytes and nothing of the jobs: it reads a file into
//! captures, writes records it is handed, or checks a directory. Choosing what to export, staging
//! the destination and storing what was read are the jobs', in [`crate::ops`]. Archives made by
//! other tools are untrusted input: the readers take limits, and `confined` reads a bag's
//! directory without ever leaving it.

pub mod bagit;
pub(crate) mod confined;
pub mod warc;
