import { describe, expect, it } from "vitest";
import { WedgeDetector } from "./wedge";

function harness(gapMs = 35) {
  const scans: string[] = [];
  const typed: string[] = [];
  let pending: (() => void) | null = null;
  const d = new WedgeDetector(
    { scan: (s) => scans.push(s), replay: (s) => typed.push(s) },
    {
      gapMs,
      minLength: 6,
      setTimer: (fn) => {
        pending = fn;
        return 1;
      },
      clearTimer: () => {
        pending = null;
      },
    },
  );
  const fire = () => {
    const p = pending;
    pending = null;
    p?.();
  };
  return { d, scans, typed, fire };
}

describe("keyboard wedge scanner detection", () => {
  it("reads a fast burst ending in Enter as one scan and keeps it out of the field", () => {
    const { d, scans, typed } = harness();
    const code = "4243754826492874240001440000";
    let t = 1000;
    const prevented = [...code].map((c) => d.keydown(c, (t += 4)));
    expect(prevented.every(Boolean)).toBe(true);
    expect(d.keydown("Enter", (t += 4))).toBe(true);
    expect(scans).toEqual([code]);
    expect(typed).toEqual([]);
  });

  it("gives slow human typing back to the focused field", () => {
    const { d, scans, typed, fire } = harness();
    let t = 0;
    for (const c of "张三abc") {
      d.keydown(c, (t += 150));
      fire(); // the hold timer expires between human keystrokes
    }
    expect(scans).toEqual([]);
    expect(typed.join("")).toBe("张三abc");
  });

  it("lets Enter through after a short burst and replays the burst", () => {
    const { d, scans, typed } = harness();
    d.keydown("1", 0);
    d.keydown("2", 5);
    expect(d.keydown("Enter", 10)).toBe(false);
    expect(scans).toEqual([]);
    expect(typed).toEqual(["12"]);
  });

  it("ignores modifier chords and a plain Enter", () => {
    const { d, scans } = harness();
    expect(d.keydown("s", 0, true)).toBe(false);
    expect(d.keydown("Enter", 5)).toBe(false);
    expect(scans).toEqual([]);
  });

  it("reads two scans in a row separately", () => {
    const { d, scans } = harness();
    let t = 0;
    for (const code of ["111111111111", "222222222222"]) {
      for (const c of code) d.keydown(c, (t += 3));
      d.keydown("Enter", (t += 3));
      t += 500;
    }
    expect(scans).toEqual(["111111111111", "222222222222"]);
  });

  it("gives held keys back to the field they were typed in when focus moves on", () => {
    const { d, typed } = harness();
    expect(d.keydown("S", 0)).toBe(true);
    d.keydown("0", 5);
    expect(d.holding).toBe(true);
    // Focus moves (App.vue flushes on focusin) before the hold timer fires.
    d.flush();
    expect(typed).toEqual(["S0"]);
    expect(d.holding).toBe(false);
  });
});
