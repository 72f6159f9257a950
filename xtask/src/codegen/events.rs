//! Envelope oneof → the event catalogue of `mezon-events` (filled in by the events work).

use std::path::Path;

use prost_types::FileDescriptorSet;

use super::GeneratedFile;

pub fn generate(_root: &Path, _fds: &FileDescriptorSet) -> Result<Vec<GeneratedFile>, String> {
    Ok(Vec::new())
}
