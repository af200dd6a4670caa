/** Tick positions and labels shared by the charts and the image colour bars. */

const SUPERSCRIPT: Record<string, string> = {
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
  "-": "⁻",
  "+": "",
};

/** `"(Mpc/h)^3"` → `"(Mpc/h)³"`, `"h^-1"` → `"h⁻¹"`: exponents written `^n` become superscripts. */
export function prettyUnits(label: string): string {
  return label.replace(/\^\{?([+-]?\d+)\}?/g, (_m, e: string) =>
    [...e].map((c) => SUPERSCRIPT[c] ?? c).join(""),
  );
}

/** `10ⁿ` with a superscript exponent. */
export function powerOfTen(n: number): string {
  return `10${[...String(n)].map((c) => SUPERSCRIPT[c] ?? c).join("")}`;
}

/** Compact number label: up to 4 significant digits, no trailing zeros, exponent form outside [1e-3, 1e5). */
export function formatNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(digits - 1).split("e") as [string, string];
    const mant = String(Number(m));
    const exp = Number(e);
    return mant === "1"
      ? powerOfTen(exp)
      : mant === "-1"
        ? `-${powerOfTen(exp)}`
        : `${mant}×${powerOfTen(exp)}`;
  }
  return String(Number(v.toPrecision(digits)));
}

/** About `count` "nice" (1, 2, 5 × 10ⁿ) ticks covering [lo, hi], only those inside the range. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // the 1-2-2.5-5 step closest (in ratio) to the raw step
  const step = [1, 2, 2.5, 5, 10]
    .map((m) => m * mag)
    .reduce((best, s) =>
      Math.abs(Math.log(s / raw)) < Math.abs(Math.log(best / raw)) ? s : best,
    );
  const out: number[] = [];
  for (
    let t = Math.ceil(lo / step - 1e-9) * step;
    t <= hi + step * 1e-9;
    t += step
  ) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return out;
}

/**
 * Ticks for a log axis over [lo, hi] (both > 0): every decade (thinned to at most ~8), plus 2× and 5×
 * when fewer than three decades fall inside the range.
 */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo) + 1e-9);
  const b = Math.ceil(Math.log10(hi) - 1e-9);
  const inRange = (t: number) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9);
  const round = (t: number) => Number(t.toPrecision(12));
  const decades: number[] = [];
  for (let e = a; e <= b; e++)
    if (inRange(10 ** e)) decades.push(round(10 ** e));
  if (decades.length >= 3) {
    const every = Math.ceil(decades.length / 8);
    return decades.filter((_, i) => i % every === 0);
  }
  const out: number[] = [];
  for (let e = a; e <= b; e++)
    for (const m of [1, 2, 5])
      if (inRange(m * 10 ** e)) out.push(round(m * 10 ** e));
  return out.length >= 2 ? out : linearTicks(lo, hi, 4).filter((t) => t > 0);
}

/** Label for a log-axis tick: plain numbers when every tick lies in [1e-3, 1e4], else `10ⁿ` for decades. */
export function logTickLabels(ticks: number[]): string[] {
  const plain = ticks.every((t) => t >= 1e-3 && t <= 1e4);
  return ticks.map((t) => {
    const e = Math.log10(t);
    if (!plain && Math.abs(e - Math.round(e)) < 1e-9)
      return powerOfTen(Math.round(e));
    return formatNumber(t);
  });
}
