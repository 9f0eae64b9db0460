// The window's contract with Rust: every command the window may call, declared once.
// `build.rs` reads this file for the permission manifest (and writes
// permissions/app.toml); `lib.rs` expands it into the command adapters, the handler
// list and — in `cargo test` — the TypeScript client ui/src/bindings/commands.ts.
// Each line: screen-module::command(context; arguments) -> answer. The context
// (`state`, `app`) is what the adapter passes through; the arguments cross the IPC
// by name (camelCase in TypeScript), their types checked against the adapter's own.
contract! {
    session::app_info(app; ) -> crate::dto::AppInfo;
    session::session_current(state; ) -> Option<crate::dto::SessionInfo>;
    session::session_needs_first_supervisor(state; ) -> bool;
    session::session_create_first_supervisor(state; operator_id: String, name: String, password: String) -> crate::dto::SessionInfo;
    session::session_sign_in(state; operator_id: String, password: String) -> crate::dto::SessionInfo;
    session::session_sign_out(state; ) -> ();
    session::users_list(state; ) -> Vec<crate::dto::OperatorView>;
    session::users_add(state; operator_id: String, name: String, role: String, password: String) -> Vec<crate::dto::OperatorView>;
    checkout::checkout_view(state; ) -> crate::dto::CheckoutView;
    checkout::checkout_resolve_qr(state; text: String) -> crate::dto::CheckoutView;
    checkout::checkout_scanned(app, state; text: String) -> ();
    checkout::checkout_resolve_id(state; cert_no: String, name: String) -> crate::dto::CheckoutView;
    bill::catalog_search(state; query: String) -> Vec<crate::dto::CatalogItemView>;
    bill::checkout_add_line(state; code: String, cnt: String) -> crate::dto::CheckoutView;
    bill::checkout_set_qty(state; index: usize, cnt: String) -> crate::dto::CheckoutView;
    bill::checkout_remove_line(state; index: usize) -> crate::dto::CheckoutView;
    bill::checkout_set_price(state; index: usize, pric: String) -> crate::dto::CheckoutView;
    bill::checkout_import_bill(state; json: String) -> crate::dto::CheckoutView;
    visit::his_pending(state; ) -> Vec<crate::dto::PendingBillView>;
    visit::checkout_take_his_bill(state; bill_id: String) -> crate::dto::CheckoutView;
    visit::diagnosis_search(state; query: String) -> Vec<crate::dto::DiagnosisView>;
    visit::checkout_set_clinic_visit(state; doctor: String, diagnoses: Vec<crate::dto::DiagnosisView>, chronic: Option<String>) -> crate::dto::CheckoutView;
    visit::dict_list(state; ) -> crate::dto::DictView;
    visit::dict_import(state; kind: String, csv: String) -> crate::dto::DictView;
    visit::catalog_status(state; ) -> crate::dto::CatalogStatusView;
    visit::catalog_sync(state; ) -> crate::dto::CatalogStatusView;
    visit::catalog_map_import(state; csv: String) -> crate::dto::CatalogStatusView;
    checkout::checkout_override_rules(state; supervisor_id: String, supervisor_password: String, reason: String) -> crate::dto::CheckoutView;
    checkout::checkout_presettle(state; acct_used: bool) -> crate::dto::CheckoutView;
    checkout::checkout_settle(state; ) -> crate::dto::CheckoutView;
    checkout::checkout_pay_cash(state; given: String) -> crate::dto::CheckoutView;
    checkout::checkout_pay_card(state; reference: String) -> crate::dto::CheckoutView;
    checkout::checkout_offline(state; cert_no: String, name: String, given: String) -> crate::dto::CheckoutView;
    checkout::checkout_reset(state; ) -> crate::dto::CheckoutView;
    checkout::checkout_refund(state; setl_id: String, supervisor_id: String, supervisor_password: String) -> crate::dto::CheckoutView;
    checkout::checkout_partial_refund(state; setl_id: String, keep: Vec<usize>, supervisor_id: String, supervisor_password: String) -> crate::dto::CheckoutView;
    history::history_list(state; ) -> Vec<crate::dto::HistoryItemView>;
    history::history_reprint(state; setl_id: String) -> String;
    queue::queue_list(state; ) -> Vec<crate::dto::QueueItemView>;
    queue::queue_sync(state; ) -> Vec<crate::dto::QueueItemView>;
    queue::queue_retry(state; id: String) -> Vec<crate::dto::QueueItemView>;
    queue::adjustments_list(state; ) -> Vec<crate::dto::AdjustmentView>;
    queue::adjustment_settle(state; id: u32) -> Vec<crate::dto::AdjustmentView>;
    reconcile::reconcile_day(state; day: String, include_refunds: bool, float: String, cash_counted: String, card_terminal: String) -> crate::dto::ReconcileView;
    reconcile::reconcile_export(state; ) -> String;
    history::history_resume(state; checkout_id: String) -> crate::dto::CheckoutView;
    history::fence_flags(state; ) -> Vec<crate::dto::FenceFlagView>;
    finance::finance_day(state; day: String) -> crate::dto::FinanceView;
    finance::finance_export(state; day: String) -> String;
    shift::shift_current(state; ) -> Option<crate::dto::ShiftView>;
    shift::shift_open(state; float: String) -> Option<crate::dto::ShiftView>;
    shift::shift_cash(state; cash_in: bool, amount_text: String, note: String) -> Option<crate::dto::ShiftView>;
    shift::shift_hand_over(state; to_id: String, to_password: String, counted: String) -> crate::dto::SessionInfo;
    shift::shift_close(state; counted: String) -> crate::dto::ShiftReportView;
    settings::settings_get(state; ) -> crate::dto::SettingsView;
    settings::settings_save(app, state; config: crate::config::AppConfig) -> crate::dto::SettingsView;
    settings::settings_print_test_page(state; ) -> String;
}
