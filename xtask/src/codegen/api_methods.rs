//! proto/api-methods.tsv → the API method table of `mezon-transport` (filled in by the transport work).

use std::path::Path;

use prost_types::FileDescriptorSet;

use super::GeneratedFile;

pub fn generate(_root: &Path, _fds: &FileDescriptorSet) -> Result<Vec<GeneratedFile>, String> {
    Ok(Vec::new())
}
