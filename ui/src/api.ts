// The one place the front end talks to Rust. Types come from Rust (ts-rs, src/bindings/),
// never hand-copied. Errors arrive as {code, message, action}; screens branch on `code`.
import { invoke } from "@tauri-apps/api/core";
import type { AppError } from "./bindings/AppError";
import type { AppInfo } from "./bindings/AppInfo";
import type { SessionInfo } from "./bindings/SessionInfo";

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly action: string,
  ) {
    super(message);
  }
}

function isAppError(e: unknown): e is AppError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    if (isAppError(e)) throw new ApiError(e.code, e.message, e.action);
    throw new ApiError("system_fault", String(e), "请重试；如仍失败请联系信息科。");
  }
}

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  session: () => call<SessionInfo | null>("session_current"),
  needsFirstSupervisor: () => call<boolean>("session_needs_first_supervisor"),
  createFirstSupervisor: (operatorId: string, name: string, password: string) =>
    call<SessionInfo>("session_create_first_supervisor", { operatorId, name, password }),
  signIn: (operatorId: string, password: string) =>
    call<SessionInfo>("session_sign_in", { operatorId, password }),
  signOut: () => call<void>("session_sign_out"),
};

import type { CatalogItemView } from "./bindings/CatalogItemView";
import type { CheckoutView } from "./bindings/CheckoutView";

export const checkoutApi = {
  view: () => call<CheckoutView>("checkout_view"),
  resolveQr: (text: string) => call<CheckoutView>("checkout_resolve_qr", { text }),
  /** A USB scanner's code from any screen: the outcome comes as checkout://view or checkout://error. */
  scanned: (text: string) => call<null>("checkout_scanned", { text }),
  resolveId: (certNo: string, name: string) => call<CheckoutView>("checkout_resolve_id", { certNo, name }),
  search: (query: string) => call<CatalogItemView[]>("catalog_search", { query }),
  addLine: (code: string, cnt: string) => call<CheckoutView>("checkout_add_line", { code, cnt }),
  setQty: (index: number, cnt: string) => call<CheckoutView>("checkout_set_qty", { index, cnt }),
  removeLine: (index: number) => call<CheckoutView>("checkout_remove_line", { index }),
  setPrice: (index: number, pric: string) => call<CheckoutView>("checkout_set_price", { index, pric }),
  importBill: (json: string) => call<CheckoutView>("checkout_import_bill", { json }),
  presettle: (acctUsed: boolean) => call<CheckoutView>("checkout_presettle", { acctUsed }),
  settle: () => call<CheckoutView>("checkout_settle"),
  payCash: (given: string) => call<CheckoutView>("checkout_pay_cash", { given }),
  payCard: (reference: string) => call<CheckoutView>("checkout_pay_card", { reference }),
  reset: () => call<CheckoutView>("checkout_reset"),
  offline: (certNo: string, name: string, given: string) =>
    call<CheckoutView>("checkout_offline", { certNo, name, given }),
  partialRefund: (setlId: string, keep: number[], supervisorId: string, supervisorPassword: string) =>
    call<CheckoutView>("checkout_partial_refund", { setlId, keep, supervisorId, supervisorPassword }),
  refund: (setlId: string, supervisorId: string, supervisorPassword: string) =>
    call<CheckoutView>("checkout_refund", { setlId, supervisorId, supervisorPassword }),
};

import type { AppConfig } from "./bindings/AppConfig";
import type { HistoryItemView } from "./bindings/HistoryItemView";
import type { QueueItemView } from "./bindings/QueueItemView";
import type { SettingsView } from "./bindings/SettingsView";

export const historyApi = {
  list: () => call<HistoryItemView[]>("history_list"),
  reprint: (setlId: string) => call<string>("history_reprint", { setlId }),
  /** Put an unfinished (settled, not yet paid) checkout back on the counter. */
  resume: (checkoutId: string) => call<CheckoutView>("history_resume", { checkoutId }),
};

export const queueApi = {
  list: () => call<QueueItemView[]>("queue_list"),
  sync: () => call<QueueItemView[]>("queue_sync"),
  retry: (id: string) => call<QueueItemView[]>("queue_retry", { id }),
};

export const settingsApi = {
  get: () => call<SettingsView>("settings_get"),
  save: (config: AppConfig) => call<SettingsView>("settings_save", { config }),
  testPage: () => call<string>("settings_print_test_page"),
};

import type { ReconcileView } from "./bindings/ReconcileView";

export const reconcileApi = {
  day: (day: string, includeRefunds: boolean, float: string, cashCounted: string, cardTerminal: string) =>
    call<ReconcileView>("reconcile_day", { day, includeRefunds, float, cashCounted, cardTerminal }),
  /** Writes the result just shown as CSV under the data directory; returns the file's path. */
  exportCsv: () => call<string>("reconcile_export"),
};

import type { OperatorView } from "./bindings/OperatorView";

export const usersApi = {
  list: () => call<OperatorView[]>("users_list"),
  add: (operatorId: string, name: string, role: string, password: string) =>
    call<OperatorView[]>("users_add", { operatorId, name, role, password }),
};

import type { AdjustmentView } from "./bindings/AdjustmentView";

export const adjustmentApi = {
  list: () => call<AdjustmentView[]>("adjustments_list"),
  settle: (id: number) => call<AdjustmentView[]>("adjustment_settle", { id }),
};
