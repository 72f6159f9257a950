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
    let secret_holders = messages_with_secrets(fds)?;
    let mut config = prost_build::Config::new();
    config
        .bytes(["."])
        .skip_debug(secret_holders.iter().map(|(name, _)| format!(".{name}")))
        .out_dir(&scratch);
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
    files.push(GeneratedFile::rust(
        format!("{OUT_DIR}/redacted_debug.rs"),
        &redacted_debug(&secret_holders),
    )?);
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

/// Field names whose values are credentials: their messages get a `Debug` that hides them, so
/// a token or key never reaches a log through `{:?}`.
const SECRET_FIELDS: [&str; 6] = [
    "token",
    "refresh_token",
    "id_token",
    "password",
    "encrypt_private_key",
    "api_key",
];

/// `(full message name, [(field name, is secret)])` for every message with a secret field.
type SecretHolder = (String, Vec<(String, bool)>);

fn messages_with_secrets(fds: &FileDescriptorSet) -> Result<Vec<SecretHolder>, String> {
    let mut holders = Vec::new();
    for file in &fds.file {
        if !file.package().starts_with("mezon.") {
            continue;
        }
        for message in &file.message_type {
            let secret = |f: &prost_types::FieldDescriptorProto| SECRET_FIELDS.contains(&f.name());
            if message.field.iter().any(secret) {
                holders.push((
                    format!("{}.{}", file.package(), message.name()),
                    message
                        .field
                        .iter()
                        .map(|f| (f.name().to_owned(), secret(f)))
                        .collect(),
                ));
            }
            if message
                .nested_type
                .iter()
                .any(|n| n.field.iter().any(secret))
            {
                return Err(format!(
                    "a message nested in {} has a secret field; teach redacted_debug nested paths",
                    message.name()
                ));
            }
        }
    }
    Ok(holders)
}

fn redacted_debug(holders: &[SecretHolder]) -> String {
    let mut s = format!(
        "{HEADER}\n// `Debug` for messages holding credentials: secret fields print as `<redacted>`.\n\n\
         use core::fmt;\n\n\
         trait SecretField {{ fn is_set(&self) -> bool; }}\n\
         impl SecretField for String {{ fn is_set(&self) -> bool {{ !self.is_empty() }} }}\n\
         impl SecretField for Option<String> {{ fn is_set(&self) -> bool {{ self.is_some() }} }}\n\n\
         struct Redacted<'a, T>(&'a T);\n\n\
         impl<T: SecretField> fmt::Debug for Redacted<'_, T> {{\n\
         fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n\
         f.write_str(if self.0.is_set() {{ \"<redacted>\" }} else {{ \"<unset>\" }})\n}}\n}}\n\n"
    );
    for (full_name, fields) in holders {
        let (package, name) = full_name.rsplit_once('.').unwrap_or(("", full_name));
        let module = package.trim_start_matches("mezon.");
        s.push_str(&format!(
            "impl fmt::Debug for crate::{module}::{name} {{\nfn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\nf.debug_struct({name:?})\n"
        ));
        for (field, secret) in fields {
            let ident = rust_field_ident(field);
            if *secret {
                s.push_str(&format!(".field({field:?}, &Redacted(&self.{ident}))\n"));
            } else {
                s.push_str(&format!(".field({field:?}, &self.{ident})\n"));
            }
        }
        s.push_str(".finish()\n}\n}\n\n");
    }
    s
}

/// prost's field identifier: the proto name, raw when it is a Rust keyword.
fn rust_field_ident(name: &str) -> String {
    const KEYWORDS: [&str; 8] = [
        "type", "ref", "match", "mod", "move", "use", "where", "impl",
    ];
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}
