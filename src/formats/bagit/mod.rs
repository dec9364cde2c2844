//! BagIt bags (RFC 8493): [`write`](mod@write) writes stored versions as a bag (version 1.0);
//! [`validate`] checks any bag, not only verbatim's.

pub mod validate;
pub mod write;
