//! The checked-in generated code is what `cargo xtask codegen` would write from `proto/`.

use std::process::Command;

#[test]
fn checked_in_generated_code_is_fresh() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["codegen", "--check"])
        .output()
        .expect("xtask runs");
    assert!(
        output.status.success(),
        "`cargo xtask codegen --check` failed; run `cargo xtask codegen` and commit.\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("up to date"), "unexpected output: {stdout}");
}

#[test]
fn unknown_arguments_fail() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["codegen", "--frobnicate"])
        .output()
        .expect("xtask runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage"));
}
