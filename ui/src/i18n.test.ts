import { describe, expect, it } from "vitest";
import { cameraText, errorText, hasAllKeys, keyHint, label, locale, setLocale, t } from "./i18n";

describe("i18n", () => {
  it("has the same keys in Chinese and English", () => {
    expect(hasAllKeys()).toBe(true);
  });
  it("shows Chinese first and switches to English", () => {
    expect(locale.value).toBe("zh-CN");
    expect(t("nav_checkout")).toBe("收费");
    setLocale("en");
    expect(t("nav_checkout")).toBe("Checkout");
    setLocale("zh-CN");
  });
});

describe("errors in the cashier's language", () => {
  const err = { code: "not_activated", message: "患者的医保电子凭证尚未激活", action: "请患者激活后重新出示" };
  it("shows Rust's Chinese text as it is in Chinese", () => {
    expect(errorText(err)).toEqual({ message: err.message, action: err.action, original: null });
  });
  it("translates every kind the center can cause and keeps the Chinese original visible", () => {
    setLocale("en");
    const r = errorText(err);
    expect(r.message).toMatch(/not activated/);
    expect(r.action).toMatch(/F3/);
    expect(r.original).toBe(err.message);
    for (const code of [
      "not_activated", "wrong_code", "code_expired", "balance_short", "network", "data_mismatch",
      "payment_limit", "region_mismatch", "suspended", "system_fault", "business",
    ]) {
      expect(errorText({ code, message: "中文", action: "办法" }).original, code).toBe("中文");
    }
    setLocale("zh-CN");
  });
  it("leaves an unknown code in Chinese rather than saying nothing", () => {
    setLocale("en");
    expect(errorText({ code: "something_new", message: "新的错误", action: "" }).message).toBe("新的错误");
    setLocale("zh-CN");
  });
  it("translates the camera's states", () => {
    setLocale("en");
    expect(cameraText({ kind: "no_camera", message: "未检测到摄像头", action: "用扫码枪" }).message).toBe(
      "No camera found",
    );
    setLocale("zh-CN");
  });
});

describe("screens", () => {
  // Every word a person reads comes from the tables above, so English is complete.
  const files = import.meta.glob(["./App.vue", "./screens/*.vue"], {
    query: "?raw",
    import: "default",
    eager: true,
  }) as Record<string, string>;
  it("have no Chinese text of their own outside comments", () => {
    expect(Object.keys(files).length).toBeGreaterThan(5);
    for (const [name, src] of Object.entries(files)) {
      const code = src
        .replace(/<!--[\s\S]*?-->/g, "")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      const hit = code.match(/.*[\u4e00-\u9fff].*/);
      expect(hit?.[0] ?? null, name).toBeNull();
    }
  });
});

describe("labels sent by Rust", () => {
  it("stay in Chinese in Chinese and follow their code in English", () => {
    expect(label("state", "refunded", "已退费")).toBe("已退费");
    setLocale("en");
    expect(label("state", "refunded", "已退费")).toBe("refunded");
    expect(label("channel", "cash", "现金")).toBe("Cash");
    expect(label("state", "something_new", "新状态")).toBe("新状态");
    setLocale("zh-CN");
  });
});

describe("the keys an error names are this window's keys", () => {
  it("offline collection is F10 (F6 settles), in both languages", () => {
    const e = { code: "network", message: "连接医保中心失败", action: "可改为离线收费，网络恢复后系统自动补传" };
    setLocale("zh-CN");
    const zh = errorText(e).action + keyHint(e.code);
    expect(zh).toContain("F10");
    expect(zh).not.toContain("F6");
    setLocale("en");
    expect(errorText(e).action).toContain("F10");
    expect(errorText(e).action).not.toContain("F6");
    setLocale("zh-CN");
  });
});
