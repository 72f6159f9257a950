//! proto/ → prost types in `crates/mezon-proto/src/generated/`, plus the descriptor set.

use std::path::Path;

use prost::Message;
use prost_types::FileDescriptorSet;

use super::{GeneratedFile, HEADER, names};

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
        .skip_debug(secret_holders.iter().map(|(_, name, _)| name.clone()))
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

/// Words that make a field a credential when its name contains one of them as a `_`-separated
/// word (plural too): `token`, `fcm_tokens`, `old_password`, `client_secret`, `http_key`.
/// Only text and bytes fields (`google.protobuf.StringValue` included) are secrets;
/// `token_count` (a number) is not.
const SECRET_WORDS: [&str; 4] = ["token", "password", "secret", "key"];

/// Whether a field holds a credential, by the rule above.
fn is_secret(field: &prost_types::FieldDescriptorProto) -> bool {
    use prost_types::field_descriptor_proto::Type;
    let text = matches!(field.r#type(), Type::String | Type::Bytes)
        || field.type_name() == ".google.protobuf.StringValue";
    text && field.name().split('_').any(|word| {
        let singular = word.strip_suffix('s').unwrap_or(word);
        SECRET_WORDS.contains(&word) || SECRET_WORDS.contains(&singular)
    })
}

/// `(Rust path below the crate root, message name, [(field name, is secret)])` for every
/// message with a secret field, nested messages included.
type SecretHolder = (String, String, Vec<(String, bool)>);

fn messages_with_secrets(fds: &FileDescriptorSet) -> Result<Vec<SecretHolder>, String> {
    let mut holders = Vec::new();
    for file in &fds.file {
        if !file.package().starts_with("mezon.") {
            continue;
        }
        let module = file.package().trim_start_matches("mezon.").to_owned();
        let scope = format!(".{}", file.package());
        for message in &file.message_type {
            collect_secrets(message, &module, &scope, &mut holders)?;
        }
    }
    Ok(holders)
}

fn collect_secrets(
    message: &prost_types::DescriptorProto,
    module: &str,
    scope: &str,
    holders: &mut Vec<SecretHolder>,
) -> Result<(), String> {
    // Map entries are not types of their own in prost.
    if message.options.as_ref().is_some_and(|o| o.map_entry()) {
        return Ok(());
    }
    let full_name = format!("{scope}.{}", message.name());
    if message.field.iter().any(is_secret) {
        if let Some(field) = message
            .field
            .iter()
            .find(|f| is_secret(f) && f.oneof_index.is_some() && !f.proto3_optional())
        {
            return Err(format!(
                "{full_name}.{} is a secret inside a oneof; teach redacted_debug oneofs",
                field.name()
            ));
        }
        holders.push((
            format!("{module}::{}", names::message_rust_name(message.name())),
            full_name.clone(),
            message
                .field
                .iter()
                .map(|f| (f.name().to_owned(), is_secret(f)))
                .collect(),
        ));
    }
    let nested_module = format!("{module}::{}", names::snake_case(message.name()));
    for nested in &message.nested_type {
        collect_secrets(nested, &nested_module, &full_name, holders)?;
    }
    Ok(())
}

fn redacted_debug(holders: &[SecretHolder]) -> String {
    let mut s = format!(
        "{HEADER}\n// `Debug` for messages holding credentials: secret fields print as `<redacted>`.\n\n\
         use core::fmt;\n\n\
         trait SecretField {{ fn is_set(&self) -> bool; }}\n\
         impl SecretField for String {{ fn is_set(&self) -> bool {{ !self.is_empty() }} }}\n\
         impl SecretField for ::prost::bytes::Bytes {{ fn is_set(&self) -> bool {{ !self.is_empty() }} }}\n\
         impl<T: SecretField> SecretField for Option<T> {{ fn is_set(&self) -> bool {{ self.is_some() }} }}\n\
         impl<T: SecretField> SecretField for Vec<T> {{ fn is_set(&self) -> bool {{ !self.is_empty() }} }}\n\n\
         struct Redacted<'a, T>(&'a T);\n\n\
         impl<T: SecretField> fmt::Debug for Redacted<'_, T> {{\n\
         fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n\
         f.write_str(if self.0.is_set() {{ \"<redacted>\" }} else {{ \"<unset>\" }})\n}}\n}}\n\n"
    );
    for (path, _, fields) in holders {
        let name = path.rsplit("::").next().unwrap_or(path);
        s.push_str(&format!(
            "impl fmt::Debug for crate::{path} {{\nfn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\nf.debug_struct({name:?})\n"
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

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::FieldDescriptorProto;
    use prost_types::field_descriptor_proto::Type;

    fn field(name: &str, kind: Type) -> FieldDescriptorProto {
        FieldDescriptorProto {
            name: Some(name.into()),
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    #[test]
    fn secrets_are_found_by_rule() {
        for name in [
            "token",
            "old_password",
            "client_secret",
            "http_key",
            "fcm_token",
            "fcm_tokens",
            "voip_token",
            "encrypt_private_key",
            "api_key",
        ] {
            assert!(is_secret(&field(name, Type::String)), "{name}");
        }
        assert!(is_secret(&field("key", Type::Bytes)));
        assert!(!is_secret(&field("token_count", Type::Int32)));
        assert!(!is_secret(&field("monkey", Type::String)));
        assert!(!is_secret(&field("keyboard", Type::String)));
    }
}
