// The command list is declared once here (ACL manifest) and in `lib.rs`
// (`generate_handler!`); a command missing from either fails the build or is denied.
const COMMANDS: &[&str] = &[
    "app_info",
    "session_current",
    "session_needs_first_supervisor",
    "session_create_first_supervisor",
    "session_sign_in",
    "session_sign_out",
    "users_list",
    "users_add",
    "checkout_view",
    "checkout_resolve_qr",
    "checkout_scanned",
    "checkout_resolve_id",
    "catalog_search",
    "checkout_add_line",
    "checkout_set_qty",
    "checkout_remove_line",
    "checkout_set_price",
    "checkout_import_bill",
    "checkout_presettle",
    "checkout_settle",
    "checkout_pay_cash",
    "checkout_pay_card",
    "checkout_offline",
    "checkout_reset",
    "checkout_refund",
    "checkout_partial_refund",
    "history_list",
    "history_reprint",
    "queue_list",
    "queue_sync",
    "queue_retry",
    "adjustments_list",
    "adjustment_settle",
    "reconcile_day",
    "reconcile_export",
    "history_resume",
    "settings_get",
    "settings_save",
    "settings_print_test_page",
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
