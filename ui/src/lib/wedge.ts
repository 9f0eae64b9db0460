// Keyboard-wedge scanners type a code as a burst of keystrokes ending in Enter.
// The detector holds every printable key for `gapMs`; if the next key comes
// faster than a person can type, the burst is a scan and none of its characters
// reach the focused field. If not, the held keys are replayed to the field
// (a delay of a few tens of milliseconds that a person does not notice).

export interface WedgeOptions {
  /** Longest gap between two keys of one scan, in ms. Scanners: 1–20 ms; people: 80+ ms. */
  gapMs: number;
  /** Shortest scan accepted (shorter bursts are replayed as typing). */
  minLength: number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
}

export interface WedgeSink {
  /** A complete scan was read. */
  scan(text: string): void;
  /** These keys were typed by a person: give them to the focused field. */
  replay(text: string): void;
}

export class WedgeDetector {
  private buf: string[] = [];
  private last = 0;
  private timer: unknown = null;
  private readonly opts: WedgeOptions;

  constructor(
    private readonly sink: WedgeSink,
    opts: Partial<WedgeOptions> = {},
  ) {
    this.opts = {
      gapMs: 35,
      minLength: 6,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...opts,
    };
  }

  /** Keys are being held (a burst has started). */
  get holding(): boolean {
    return this.buf.length > 0;
  }

  /** Feed one keydown. Returns true when the event must be prevented (held or consumed). */
  keydown(key: string, time: number, modifiers = false): boolean {
    if (modifiers) return false;
    if (key === "Enter") {
      if (this.buf.length === 0) return false;
      this.stopTimer();
      const text = this.buf.join("");
      this.buf = [];
      if (text.length >= this.opts.minLength) {
        this.sink.scan(text);
        return true;
      }
      this.sink.replay(text);
      return false;
    }
    if (key.length !== 1) {
      // Non-printable keys (Shift, control prefixes some scanners send) are ignored inside
      // a burst and pass through otherwise.
      return this.buf.length > 0 && key !== "Backspace" && key !== "Escape" && key !== "Tab";
    }
    if (this.buf.length > 0 && time - this.last > this.opts.gapMs) {
      this.flush();
    }
    this.buf.push(key);
    this.last = time;
    this.stopTimer();
    this.timer = this.opts.setTimer(() => this.flush(), this.opts.gapMs);
    return true;
  }

  /** Give held keys back as typing (timer expiry). */
  flush(): void {
    this.stopTimer();
    if (this.buf.length === 0) return;
    const text = this.buf.join("");
    this.buf = [];
    this.sink.replay(text);
  }

  private stopTimer(): void {
    if (this.timer !== null) {
      this.opts.clearTimer(this.timer);
      this.timer = null;
    }
  }
}

/** Insert typed text into the focused input as if typed (used by `replay`). */
export function insertIntoFocused(text: string): void {
  insertInto(document.activeElement, text);
}

/** Insert typed text into `el` (the field that had focus when the keys were typed). */
export function insertInto(el: Element | null, text: string): void {
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
    const start = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? el.value.length;
    el.setRangeText(text, start, end, "end");
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }
}
