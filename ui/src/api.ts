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
