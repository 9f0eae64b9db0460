import { describe, expect, it } from "vitest";
import { hasAllKeys, locale, setLocale, t } from "./i18n";

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
