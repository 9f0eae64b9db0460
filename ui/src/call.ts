// The one place the front end talks to Rust. Errors arrive as {code, message, action};
// screens branch on `code` (the ErrorCode union from Rust).
import { invoke } from "@tauri-apps/api/core";
import type { AppError } from "./bindings/AppError";
import type { ErrorCode } from "./bindings/ErrorCode";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
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
