//! Results waiting to be recorded: on disk for a whole store, in memory for named sources.

use super::*;

/// Check results parked until they are recorded. For a whole-store check, on disk: one unnamed
/// temporary file per id shard, so that memory does not grow with the number of sources, and
/// results are recorded and reported shard by shard, in id order (the files vanish when the
/// spool is dropped, or when the process dies). For sources named by the caller, in memory and
/// in the order given.
pub struct Spool {
    shards: std::collections::BTreeMap<String, std::io::BufWriter<std::fs::File>>,
    ordered: Option<Vec<Option<CheckResult>>>,
    len: usize,
}

impl Spool {
    /// An empty spool on disk, drained in id order.
    pub fn new() -> Spool {
        Spool {
            shards: std::collections::BTreeMap::new(),
            ordered: None,
            len: 0,
        }
    }

    /// An empty spool in memory for `count` results, drained in the order of their indexes.
    pub fn in_order(count: usize) -> Spool {
        Spool {
            ordered: Some((0..count).map(|_| None).collect()),
            ..Spool::new()
        }
    }

    /// Parks result number `index` (staged first: its capture is not kept on disk).
    pub fn push(&mut self, index: usize, result: CheckResult) -> std::io::Result<()> {
        use std::io::Write;
        self.len += 1;
        if let Some(ordered) = &mut self.ordered {
            match ordered.get_mut(index) {
                Some(slot) => *slot = Some(result),
                None => ordered.push(Some(result)),
            }
            return Ok(());
        }
        let shard = result.source.get(..2).unwrap_or("xx").to_owned();
        let file = match self.shards.entry(shard) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(std::io::BufWriter::new(tempfile::tempfile()?))
            }
        };
        serde_json::to_writer(&mut *file, &result)
            .map_err(std::io::Error::from)
            .and_then(|()| file.write_all(b"\n"))
    }

    /// How many results are parked.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The parked results in batches: one per id shard, each sorted by id; or, in order, one.
    pub fn drain(self) -> Box<dyn Iterator<Item = std::io::Result<Vec<CheckResult>>>> {
        if let Some(ordered) = self.ordered {
            return Box::new(std::iter::once(Ok(ordered.into_iter().flatten().collect())));
        }
        Box::new(self.shards.into_values().map(|file| {
            use std::io::{BufRead, Seek};
            let mut file = file.into_inner().map_err(|e| e.into_error())?;
            file.seek(std::io::SeekFrom::Start(0))?;
            let mut results = Vec::new();
            for line in std::io::BufReader::new(file).lines() {
                let line = line?;
                let result: CheckResult =
                    serde_json::from_str(&line).map_err(std::io::Error::from)?;
                results.push(result);
            }
            results.sort_by(|a, b| a.source.cmp(&b.source));
            Ok(results)
        }))
    }
}

impl Default for Spool {
    fn default() -> Spool {
        Spool::new()
    }
}
