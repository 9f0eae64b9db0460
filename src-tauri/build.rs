// The command list is declared once here (ACL manifest) and in `lib.rs`
// (`generate_handler!`); a command missing from either fails the build or is denied.
const COMMANDS: &[&str] = &[
    "app_info",
    "session_current",
    "session_needs_first_supervisor",
    "session_create_first_supervisor",
    "session_sign_in",
    "session_sign_out",
];

fn main() {
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=permissions");
    let attrs = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attrs).expect("tauri build");
}
