// The window's commands, grouped by screen. Every function here is one of the generated
// client's (bindings/commands.ts, from src-tauri/src/contract.rs): no command name or
// argument key is written by hand.
import { commands as c } from "./bindings/commands";

export { ApiError, call } from "./call";

export const api = {
  appInfo: c.appInfo,
  session: c.sessionCurrent,
  needsFirstSupervisor: c.sessionNeedsFirstSupervisor,
  createFirstSupervisor: c.sessionCreateFirstSupervisor,
  signIn: c.sessionSignIn,
  signOut: c.sessionSignOut,
};

export const checkoutApi = {
  view: c.checkoutView,
  resolveQr: c.checkoutResolveQr,
  /** A USB scanner's code from any screen: the outcome comes as checkout://view or checkout://error. */
  scanned: c.checkoutScanned,
  resolveId: c.checkoutResolveId,
  search: c.catalogSearch,
  addLine: c.checkoutAddLine,
  setQty: c.checkoutSetQty,
  removeLine: c.checkoutRemoveLine,
  setPrice: c.checkoutSetPrice,
  importBill: c.checkoutImportBill,
  presettle: c.checkoutPresettle,
  settle: c.checkoutSettle,
  payCash: c.checkoutPayCash,
  payCard: c.checkoutPayCard,
  reset: c.checkoutReset,
  offline: c.checkoutOffline,
  partialRefund: c.checkoutPartialRefund,
  refund: c.checkoutRefund,
  /** The patient's pending orders at the HIS (empty in clinic mode). */
  hisPending: c.hisPending,
  takeHisBill: c.checkoutTakeHisBill,
  diagnoses: c.diagnosisSearch,
  /** Clinic mode: the doctor and diagnoses (the first is the main one), and a 慢特病 registration. */
  setClinicVisit: c.checkoutSetClinicVisit,
  /** A supervisor lets a settlement a 事前事中 rule (明确违规) stopped go ahead, with a reason. */
  overrideRules: c.checkoutOverrideRules,
};

export const catalogApi = {
  status: c.catalogStatus,
  sync: c.catalogSync,
  importMapping: c.catalogMapImport,
};

export const dictApi = {
  list: c.dictList,
  /** A supervisor's or admin's import of departments or doctors from CSV. */
  import: c.dictImport,
};

export const historyApi = {
  list: c.historyList,
  reprint: c.historyReprint,
  /** Put an unfinished (settled, not yet paid) checkout back on the counter. */
  resume: c.historyResume,
  /** Today's 电子围栏 flags; refused (forbidden) for cashiers. */
  fenceFlags: c.fenceFlags,
};

export const queueApi = {
  list: c.queueList,
  sync: c.queueSync,
  retry: c.queueRetry,
};

export const settingsApi = {
  get: c.settingsGet,
  save: c.settingsSave,
  testPage: c.settingsPrintTestPage,
};

export const financeApi = {
  /** The institution's day from the hub, or this counter's own when there is none. */
  day: c.financeDay,
  /** The same figures as CSV under the data directory; returns the file's path. */
  exportCsv: c.financeExport,
};

export const shiftApi = {
  current: c.shiftCurrent,
  open: c.shiftOpen,
  cash: c.shiftCash,
  /** The next cashier takes the counter: the answer is their session. */
  handOver: c.shiftHandOver,
  /** The blind close: the 交班单, its PDF and whether it printed. */
  close: c.shiftClose,
};

export const reconcileApi = {
  day: c.reconcileDay,
  /** Writes the result just shown as CSV under the data directory; returns the file's path. */
  exportCsv: c.reconcileExport,
};

export const usersApi = {
  list: c.usersList,
  add: c.usersAdd,
};

export const adjustmentApi = {
  list: c.adjustmentsList,
  settle: c.adjustmentSettle,
};
