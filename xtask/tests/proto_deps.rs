//! `mezon-proto` stays a pure data crate: a tool depending on it alone pulls in no async
//! runtime, WebSocket or HTTP stack — only prost and bytes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

#[test]
fn mezon_proto_links_only_prost_and_bytes() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root");
    // Normal dependencies that end up in the binary (proc macros such as prost-derive only
    // run at compile time).
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args(["tree", "-p", "mezon-proto", "-e", "normal,no-proc-macro"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo tree runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let crates: BTreeSet<&str> = stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(
        crates,
        BTreeSet::from(["bytes", "mezon-proto", "prost"]),
        "mezon-proto's dependency tree changed:\n{stdout}"
    );
}
