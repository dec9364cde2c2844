//! WARC files (ISO 28500): [`read`] takes the captures out of any tool's WARC file (1.0 or
//! 1.1, plain or gzip); [`write`](mod@write) writes stored versions as a WARC 1.1 file,
//! gzip-compressed record by record.

pub mod read;
pub mod write;
