// UI text: zh-CN first, English available. Keys are checked by the compiler:
// the English table must have exactly the keys of the Chinese one.
import { ref } from "vue";

export type Locale = "zh-CN" | "en";

const zh = {
  app_title: "医保收银台",
  app_subtitle: "医保电子凭证扫码结算",
  lang_switch: "English",
  signin_title: "收费员签到",
  signin_operator: "工号",
  signin_password: "密码",
  signin_submit: "签到 (Enter)",
  signin_busy: "正在签到…",
  firstrun_title: "首次使用：创建主管账户",
  firstrun_hint: "本机尚无任何账户。请创建第一个主管（supervisor）账户，之后可在设置中添加收费员。",
  firstrun_name: "姓名",
  firstrun_password_again: "再次输入密码",
  firstrun_submit: "创建并签到",
  firstrun_mismatch: "两次输入的密码不一致",
  firstrun_short: "密码至少 8 位",
  nav_checkout: "收费",
  nav_history: "记录",
  nav_queue: "离线队列",
  nav_reconcile: "日结对账",
  nav_settings: "设置",
  signout: "签退",
  operator: "收费员",
  role_cashier: "收费员",
  role_supervisor: "主管",
  center: "医保中心",
  center_demo: "模拟中心（演示）",
  center_online: "在线",
  center_offline: "离线",
  not_built_title: "此功能尚未完成",
  not_built_body: "该页面尚在开发中，目前不能使用。请勿在此页面办理业务。",
  shortcut_hint: "快捷键",
  error_title: "出错了",
  what_to_do: "处理办法",
  ok: "确定",
} as const;

export type Key = keyof typeof zh;

const en: Record<Key, string> = {
  app_title: "Yibao Counter",
  app_subtitle: "Medical insurance QR checkout",
  lang_switch: "中文",
  signin_title: "Cashier sign-in",
  signin_operator: "Operator ID",
  signin_password: "Password",
  signin_submit: "Sign in (Enter)",
  signin_busy: "Signing in…",
  firstrun_title: "First run: create a supervisor",
  firstrun_hint: "This counter has no accounts yet. Create the first supervisor account; add cashiers later in Settings.",
  firstrun_name: "Name",
  firstrun_password_again: "Repeat password",
  firstrun_submit: "Create and sign in",
  firstrun_mismatch: "The passwords differ",
  firstrun_short: "At least 8 characters",
  nav_checkout: "Checkout",
  nav_history: "History",
  nav_queue: "Offline queue",
  nav_reconcile: "Day close",
  nav_settings: "Settings",
  signout: "Sign out",
  operator: "Cashier",
  role_cashier: "Cashier",
  role_supervisor: "Supervisor",
  center: "Center",
  center_demo: "Simulated center (demo)",
  center_online: "online",
  center_offline: "offline",
  not_built_title: "Not built yet",
  not_built_body: "This screen is still under construction and cannot be used yet.",
  shortcut_hint: "Shortcuts",
  error_title: "Error",
  what_to_do: "What to do",
  ok: "OK",
};

const tables: Record<Locale, Record<Key, string>> = { "zh-CN": zh, en };

export const locale = ref<Locale>(
  (globalThis.localStorage?.getItem("yibao.locale") as Locale | null) ?? "zh-CN",
);

export function setLocale(l: Locale): void {
  locale.value = l;
  globalThis.localStorage?.setItem("yibao.locale", l);
  document.documentElement.lang = l;
}

/** Translate `key`, replacing `{name}` placeholders with `params`. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  const s = tables[locale.value][key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? `{${k}}`));
}

export function hasAllKeys(): boolean {
  return Object.keys(zh).every((k) => k in en) && Object.keys(en).every((k) => k in zh);
}
