//! proto/ → prost types in `crates/mezon-proto/src/generated/`, plus the descriptor set.

use std::path::Path;

use prost::Message;
use prost_types::FileDescriptorSet;

use super::{GeneratedFile, HEADER};

const OUT_DIR: &str = "crates/mezon-proto/src/generated";
const ROOTS: [&str; 2] = ["api/api.proto", "rtapi/realtime.proto"];

/// Parses proto/ with protox (pure Rust, no system protoc).
pub fn compile(root: &Path) -> Result<FileDescriptorSet, String> {
    let mut compiler =
        protox::Compiler::new([root.join("proto")]).map_err(|e| format!("protox: {e}"))?;
    compiler.include_imports(true).include_source_info(true);
    compiler
        .open_files(ROOTS)
        .map_err(|e| format!("proto/ does not compile: {e:?}"))?;
    Ok(compiler.file_descriptor_set())
}

pub fn generate(fds: &FileDescriptorSet) -> Result<Vec<GeneratedFile>, String> {
    let scratch = std::env::temp_dir().join(format!("mezon-xtask-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let mut config = prost_build::Config::new();
    config.bytes(["."]).out_dir(&scratch);
    let result = config
        .compile_fds(fds.clone())
        .map_err(|e| format!("prost-build: {e}"));
    let mut files = Vec::new();
    if result.is_ok() {
        for package in ["mezon.api", "mezon.realtime"] {
            let generated = std::fs::read_to_string(scratch.join(format!("{package}.rs")))
                .map_err(|e| format!("prost-build wrote no {package}.rs: {e}"));
            match generated {
                Ok(code) => files.push(GeneratedFile::rust(
                    format!("{OUT_DIR}/{}.rs", package.trim_start_matches("mezon.")),
                    &format!("{HEADER}\n{code}"),
                )?),
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&scratch);
                    return Err(e);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    files.push(GeneratedFile {
        path: format!("{OUT_DIR}/descriptor_set.bin").into(),
        contents: without_source_info(fds).encode_to_vec(),
    });
    Ok(files)
}

/// The descriptor set shipped in the crate: comments and spans are only needed for the
/// generated docs, so they are left out of the embedded bytes.
fn without_source_info(fds: &FileDescriptorSet) -> FileDescriptorSet {
    let mut fds = fds.clone();
    for file in &mut fds.file {
        file.source_code_info = None;
    }
    fds
}
