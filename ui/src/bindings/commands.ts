// Generated from src-tauri/src/contract.rs by `cargo test`; do not edit.
// One function per command: the names, argument keys and types come from Rust.
import { call } from "../call";
import type { AdjustmentView } from "./AdjustmentView";
import type { AppConfig } from "./AppConfig";
import type { AppInfo } from "./AppInfo";
import type { CatalogItemView } from "./CatalogItemView";
import type { CatalogStatusView } from "./CatalogStatusView";
import type { CheckoutView } from "./CheckoutView";
import type { DiagnosisView } from "./DiagnosisView";
import type { DictView } from "./DictView";
import type { FenceFlagView } from "./FenceFlagView";
import type { FinanceView } from "./FinanceView";
import type { HistoryItemView } from "./HistoryItemView";
import type { OperatorView } from "./OperatorView";
import type { PendingBillView } from "./PendingBillView";
import type { QueueItemView } from "./QueueItemView";
import type { ReconcileView } from "./ReconcileView";
import type { SessionInfo } from "./SessionInfo";
import type { SettingsView } from "./SettingsView";
import type { ShiftReportView } from "./ShiftReportView";
import type { ShiftView } from "./ShiftView";

export const commands = {
  appInfo: () => call<AppInfo>("app_info"),
  sessionCurrent: () => call<SessionInfo | null>("session_current"),
  sessionNeedsFirstSupervisor: () => call<boolean>("session_needs_first_supervisor"),
  sessionCreateFirstSupervisor: (operatorId: string, name: string, password: string) => call<SessionInfo>("session_create_first_supervisor", { operatorId, name, password }),
  sessionSignIn: (operatorId: string, password: string) => call<SessionInfo>("session_sign_in", { operatorId, password }),
  sessionSignOut: () => call<null>("session_sign_out"),
  usersList: () => call<Array<OperatorView>>("users_list"),
  usersAdd: (operatorId: string, name: string, role: string, password: string) => call<Array<OperatorView>>("users_add", { operatorId, name, role, password }),
  checkoutView: () => call<CheckoutView>("checkout_view"),
  checkoutResolveQr: (text: string) => call<CheckoutView>("checkout_resolve_qr", { text }),
  checkoutScanned: (text: string) => call<null>("checkout_scanned", { text }),
  checkoutResolveId: (certNo: string, name: string) => call<CheckoutView>("checkout_resolve_id", { certNo, name }),
  catalogSearch: (query: string) => call<Array<CatalogItemView>>("catalog_search", { query }),
  checkoutAddLine: (code: string, cnt: string) => call<CheckoutView>("checkout_add_line", { code, cnt }),
  checkoutSetQty: (index: number, cnt: string) => call<CheckoutView>("checkout_set_qty", { index, cnt }),
  checkoutRemoveLine: (index: number) => call<CheckoutView>("checkout_remove_line", { index }),
  checkoutSetPrice: (index: number, pric: string) => call<CheckoutView>("checkout_set_price", { index, pric }),
  checkoutImportBill: (json: string) => call<CheckoutView>("checkout_import_bill", { json }),
  hisPending: () => call<Array<PendingBillView>>("his_pending"),
  checkoutTakeHisBill: (billId: string) => call<CheckoutView>("checkout_take_his_bill", { billId }),
  diagnosisSearch: (query: string) => call<Array<DiagnosisView>>("diagnosis_search", { query }),
  checkoutSetClinicVisit: (doctor: string, diagnoses: Array<DiagnosisView>, chronic: string | null) => call<CheckoutView>("checkout_set_clinic_visit", { doctor, diagnoses, chronic }),
  dictList: () => call<DictView>("dict_list"),
  dictImport: (kind: string, csv: string) => call<DictView>("dict_import", { kind, csv }),
  catalogStatus: () => call<CatalogStatusView>("catalog_status"),
  catalogSync: () => call<CatalogStatusView>("catalog_sync"),
  catalogMapImport: (csv: string) => call<CatalogStatusView>("catalog_map_import", { csv }),
  checkoutOverrideRules: (supervisorId: string, supervisorPassword: string, reason: string) => call<CheckoutView>("checkout_override_rules", { supervisorId, supervisorPassword, reason }),
  checkoutPresettle: (acctUsed: boolean) => call<CheckoutView>("checkout_presettle", { acctUsed }),
  checkoutSettle: () => call<CheckoutView>("checkout_settle"),
  checkoutPayCash: (given: string) => call<CheckoutView>("checkout_pay_cash", { given }),
  checkoutPayCard: (reference: string) => call<CheckoutView>("checkout_pay_card", { reference }),
  checkoutOffline: (certNo: string, name: string, given: string) => call<CheckoutView>("checkout_offline", { certNo, name, given }),
  checkoutReset: () => call<CheckoutView>("checkout_reset"),
  checkoutRefund: (setlId: string, supervisorId: string, supervisorPassword: string) => call<CheckoutView>("checkout_refund", { setlId, supervisorId, supervisorPassword }),
  checkoutPartialRefund: (setlId: string, keep: Array<number>, supervisorId: string, supervisorPassword: string) => call<CheckoutView>("checkout_partial_refund", { setlId, keep, supervisorId, supervisorPassword }),
  historyList: () => call<Array<HistoryItemView>>("history_list"),
  historyReprint: (setlId: string) => call<string>("history_reprint", { setlId }),
  queueList: () => call<Array<QueueItemView>>("queue_list"),
  queueSync: () => call<Array<QueueItemView>>("queue_sync"),
  queueRetry: (id: string) => call<Array<QueueItemView>>("queue_retry", { id }),
  adjustmentsList: () => call<Array<AdjustmentView>>("adjustments_list"),
  adjustmentSettle: (id: number) => call<Array<AdjustmentView>>("adjustment_settle", { id }),
  reconcileDay: (day: string, includeRefunds: boolean, float: string, cashCounted: string, cardTerminal: string) => call<ReconcileView>("reconcile_day", { day, includeRefunds, float, cashCounted, cardTerminal }),
  reconcileExport: () => call<string>("reconcile_export"),
  historyResume: (checkoutId: string) => call<CheckoutView>("history_resume", { checkoutId }),
  fenceFlags: () => call<Array<FenceFlagView>>("fence_flags"),
  financeDay: (day: string) => call<FinanceView>("finance_day", { day }),
  financeExport: (day: string) => call<string>("finance_export", { day }),
  shiftCurrent: () => call<ShiftView | null>("shift_current"),
  shiftOpen: (float: string) => call<ShiftView | null>("shift_open", { float }),
  shiftCash: (cashIn: boolean, amountText: string, note: string) => call<ShiftView | null>("shift_cash", { cashIn, amountText, note }),
  shiftHandOver: (toId: string, toPassword: string, counted: string) => call<SessionInfo>("shift_hand_over", { toId, toPassword, counted }),
  shiftClose: (counted: string) => call<ShiftReportView>("shift_close", { counted }),
  settingsGet: () => call<SettingsView>("settings_get"),
  settingsSave: (config: AppConfig) => call<SettingsView>("settings_save", { config }),
  settingsPrintTestPage: () => call<string>("settings_print_test_page"),
} as const;
