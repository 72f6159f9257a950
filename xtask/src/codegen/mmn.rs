//! proto/mmn/ → the `mmn` ledger package in `crates/mezon-proto/src/generated/`: the prost
//! messages (`mmn.rs`, always built) and the tonic client and server stubs (`mmn_grpc.rs`,
//! built behind mezon-proto's `grpc` feature, so the default crate stays prost + bytes).
//!
//! The package is compiled on its own so the chat schema's descriptor set stays the chat
//! schema.

use std::path::Path;

use prost_types::FileDescriptorSet;

use super::{GeneratedFile, HEADER};

const OUT_DIR: &str = "crates/mezon-proto/src/generated";
const ROOT: &str = "mmn/mmn.proto";

pub fn generate(root: &Path) -> Result<Vec<GeneratedFile>, String> {
    let mut compiler =
        protox::Compiler::new([root.join("proto")]).map_err(|e| format!("protox: {e}"))?;
    compiler.include_imports(true).include_source_info(true);
    compiler
        .open_files([ROOT])
        .map_err(|e| format!("proto/{ROOT} does not compile: {e:?}"))?;
    let fds = compiler.file_descriptor_set();

    let messages = run_prost(&fds, "messages", |config| {
        config.bytes(["."]);
    })?;
    let stubs = run_prost(&fds, "grpc", |config| {
        // Messages come from the always-built module; this pass only emits the services.
        config.extern_path(".mmn", "crate::mmn").service_generator(
            tonic_prost_build::configure()
                .build_client(true)
                .build_server(true)
                // The SDK brings its own channel (with a path prefix); no `connect` helper.
                .build_transport(false)
                .service_generator(),
        );
    })?;
    Ok(vec![
        GeneratedFile::rust(
            format!("{OUT_DIR}/mmn.rs"),
            &format!("{HEADER}\n{messages}"),
        )?,
        GeneratedFile::rust(
            format!("{OUT_DIR}/mmn_grpc.rs"),
            &format!("{HEADER}\n{stubs}"),
        )?,
    ])
}

/// Runs prost-build over `fds` in a scratch directory and returns the `mmn.rs` it wrote.
fn run_prost(
    fds: &FileDescriptorSet,
    pass: &str,
    configure: impl FnOnce(&mut prost_build::Config),
) -> Result<String, String> {
    let scratch =
        std::env::temp_dir().join(format!("mezon-xtask-mmn-{pass}-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let mut config = prost_build::Config::new();
    config.out_dir(&scratch);
    configure(&mut config);
    let result = config
        .compile_fds(fds.clone())
        .map_err(|e| format!("prost-build ({pass}): {e}"))
        .and_then(|()| {
            std::fs::read_to_string(scratch.join("mmn.rs"))
                .map_err(|e| format!("prost-build ({pass}) wrote no mmn.rs: {e}"))
        });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
