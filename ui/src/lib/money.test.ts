import { describe, expect, it } from "vitest";
import { changeFor, fenToYuan, toFen } from "./money";

describe("money in the UI", () => {
  it("reads amounts as integer fen", () => {
    expect(toFen("100")).toBe(10000);
    expect(toFen("0.1")).toBe(10);
    expect(toFen("279.70")).toBe(27970);
    expect(toFen(" 5.05 ")).toBe(505);
  });
  it("refuses what is not an amount", () => {
    for (const bad of ["", "-1", "1.234", "1,000", "1e3", "abc", ".5", "1."]) {
      expect(toFen(bad), bad).toBeNull();
    }
  });
  it("computes change without floating point error", () => {
    // 0.1 + 0.2 style traps: in floating point 100 - 99.7 = 0.29999999999999716.
    expect(changeFor("100", "99.70")).toBe("0.30");
    expect(changeFor("300", "279.70")).toBe("20.30");
    expect(changeFor("279.7", "279.70")).toBe("0.00");
    expect(changeFor("279.69", "279.70")).toBeNull();
    expect(fenToYuan(5)).toBe("0.05");
  });
});
