/**
 * Makes an SVG safe for resvg before rasterising it.
 *
 * resvg (the version bundled with @resvg/resvg-js 2.6) panics — and, because the panic cannot unwind
 * through the Node binding, aborts the whole process — when it renders a *layer* (a group with a
 * `clip-path`, `mask`, `filter` or `opacity` < 1; Vega writes `opacity` on every point symbol and
 * `clip-path` on every clipped mark) whose content lies entirely beyond about twice the canvas size
 * (`fit_to_rect(...).unwrap()` on an empty intersection with the canvas bounds widened to 2×). Vega
 * places marks wherever their scale sends them, so a point outside a fixed axis range or a reference
 * line far outside the x domain produces exactly that.
 *
 * `guardSvg` removes drawable elements (path, line, rect, circle, ellipse, polyline, polygon, text,
 * image) whose bounding box lies entirely outside the canvas widened by half its size on each side
 * (such elements are invisible anyway), and elements whose geometry is not finite (NaN/Infinity
 * coordinates). Every remaining element overlaps the widened canvas, so every layer does too.
 * Unknown constructs (nested `<svg>`, `<use>`, definitions) are left untouched.
 */

type Matrix = [number, number, number, number, number, number]; // a b c d e f

const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}

const NUMBER =
  /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:NaN|Infinity)/g;

function numbers(s: string): number[] {
  return (s.match(NUMBER) ?? []).map(Number);
}

/** Parses an SVG `transform` list; undefined when it cannot be understood. */
export function parseTransform(s: string | undefined): Matrix | undefined {
  if (s === undefined) return IDENTITY;
  let m = IDENTITY;
  const re = /([a-zA-Z]+)\s*\(([^)]*)\)/g;
  let rest = s;
  let t: RegExpExecArray | null;
  while ((t = re.exec(s))) {
    rest = rest.replace(t[0], "");
    const a = numbers(t[2]!);
    let n: Matrix;
    switch (t[1]) {
      case "matrix":
        if (a.length !== 6) return undefined;
        n = a as Matrix;
        break;
      case "translate":
        n = [1, 0, 0, 1, a[0] ?? 0, a[1] ?? 0];
        break;
      case "scale":
        n = [a[0] ?? 1, 0, 0, a[1] ?? a[0] ?? 1, 0, 0];
        break;
      case "rotate": {
        const r = ((a[0] ?? 0) * Math.PI) / 180;
        const [cx, cy] = [a[1] ?? 0, a[2] ?? 0];
        const c = Math.cos(r);
        const sn = Math.sin(r);
        n = [c, sn, -sn, c, cx - c * cx + sn * cy, cy - sn * cx - c * cy];
        break;
      }
      case "skewX":
        n = [1, 0, Math.tan(((a[0] ?? 0) * Math.PI) / 180), 1, 0, 0];
        break;
      case "skewY":
        n = [1, Math.tan(((a[0] ?? 0) * Math.PI) / 180), 0, 1, 0, 0];
        break;
      default:
        return undefined;
    }
    m = multiply(m, n);
  }
  if (rest.replace(/[\s,]/g, "") !== "") return undefined;
  return m;
}

/** Axis-aligned box [x0, y0, x1, y1]; `empty` when nothing was added. */
class Box {
  x0 = Infinity;
  y0 = Infinity;
  x1 = -Infinity;
  y1 = -Infinity;
  finite = true;
  add(x: number, y: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      this.finite = false;
      return;
    }
    if (x < this.x0) this.x0 = x;
    if (x > this.x1) this.x1 = x;
    if (y < this.y0) this.y0 = y;
    if (y > this.y1) this.y1 = y;
  }
  get empty(): boolean {
    return this.x0 > this.x1;
  }
  grow(d: number): void {
    this.x0 -= d;
    this.y0 -= d;
    this.x1 += d;
    this.y1 += d;
  }
}

/** Conservative bounding box of path data (control points and arc radii included). */
export function pathBox(d: string): Box {
  const box = new Box();
  const tokens =
    d.match(
      /[+-]?(?:NaN|Infinity)|[a-zA-Z]|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g,
    ) ?? [];
  let i = 0;
  let cmd = "";
  let x = 0;
  let y = 0;
  let sx = 0;
  let sy = 0;
  const num = (): number => {
    const t = tokens[i++];
    return t === undefined || /^[a-zA-Z]$/.test(t) ? NaN : Number(t);
  };
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (/^[a-zA-Z]$/.test(t) && !/^(NaN|Infinity)$/.test(t)) {
      cmd = t;
      i++;
      if (cmd === "z" || cmd === "Z") {
        x = sx;
        y = sy;
        continue;
      }
    } else if (cmd === "" || cmd === "z" || cmd === "Z") {
      box.finite = false; // numbers without a command: malformed
      return box;
    }
    const rel = cmd === cmd.toLowerCase();
    const ox = rel ? x : 0;
    const oy = rel ? y : 0;
    switch (cmd.toUpperCase()) {
      case "M":
      case "L":
      case "T": {
        x = ox + num();
        y = oy + num();
        box.add(x, y);
        if (cmd === "M" || cmd === "m") {
          sx = x;
          sy = y;
          cmd = rel ? "l" : "L";
        }
        break;
      }
      case "H":
        x = ox + num();
        box.add(x, y);
        break;
      case "V":
        y = oy + num();
        box.add(x, y);
        break;
      case "C":
        for (let k = 0; k < 3; k++) {
          const px = ox + num();
          const py = oy + num();
          box.add(px, py);
          if (k === 2) [x, y] = [px, py];
        }
        break;
      case "S":
      case "Q":
        for (let k = 0; k < 2; k++) {
          const px = ox + num();
          const py = oy + num();
          box.add(px, py);
          if (k === 1) [x, y] = [px, py];
        }
        break;
      case "A": {
        const r = Math.max(Math.abs(num()), Math.abs(num()));
        num(); // rotation
        num(); // large-arc flag
        num(); // sweep flag
        const x0 = x;
        const y0 = y;
        x = ox + num();
        y = oy + num();
        // the arc lies within 2r of both of its end points
        box.add(x0 - 2 * r, y0 - 2 * r);
        box.add(x0 + 2 * r, y0 + 2 * r);
        box.add(x - 2 * r, y - 2 * r);
        box.add(x + 2 * r, y + 2 * r);
        break;
      }
      default:
        box.finite = false;
        return box;
    }
  }
  return box;
}

interface Tag {
  name: string;
  attrs: Record<string, string>;
  start: number;
  end: number;
  selfClosing: boolean;
}

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1]!] = m[2] ?? m[3] ?? "";
  return out;
}

function unescape(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&#x?[0-9a-fA-F]+;/g, "x")
    .replace(/&amp;/g, "&");
}

/** First number of an attribute value (units such as "px" ignored); `dflt` when absent. */
const num0 = (v: string | undefined, dflt = 0): number =>
  v === undefined || v.trim() === ""
    ? dflt
    : parseFloat(v.trim().split(/[\s,]+/)[0]!);

/** Skipped subtrees: definitions and anything whose coordinate system we do not follow. */
const OPAQUE = new Set([
  "defs",
  "clipPath",
  "mask",
  "pattern",
  "marker",
  "symbol",
  "linearGradient",
  "radialGradient",
  "filter",
  "style",
  "script",
  "svg",
  "foreignObject",
  "switch",
  "a",
]);

const DRAWABLE = new Set([
  "path",
  "line",
  "rect",
  "circle",
  "ellipse",
  "polyline",
  "polygon",
  "text",
  "image",
]);

/** Local bounding box of a drawable element (before its own transform). */
function elementBox(
  name: string,
  a: Record<string, string>,
  text: string,
): Box {
  const box = new Box();
  switch (name) {
    case "path":
      return pathBox(a.d ?? "");
    case "line":
      box.add(num0(a.x1), num0(a.y1));
      box.add(num0(a.x2), num0(a.y2));
      break;
    case "rect":
    case "image": {
      const x = num0(a.x);
      const y = num0(a.y);
      const w = num0(a.width, name === "image" ? 0 : NaN);
      const h = num0(a.height, name === "image" ? 0 : NaN);
      if (
        a.width?.includes("%") ||
        a.height?.includes("%") ||
        a.x?.includes("%") ||
        a.y?.includes("%")
      )
        return box; // relative to the viewport: keep
      box.add(x, y);
      box.add(x + w, y + h);
      break;
    }
    case "circle": {
      const r = num0(a.r);
      box.add(num0(a.cx) - r, num0(a.cy) - r);
      box.add(num0(a.cx) + r, num0(a.cy) + r);
      break;
    }
    case "ellipse": {
      const rx = num0(a.rx);
      const ry = num0(a.ry);
      box.add(num0(a.cx) - rx, num0(a.cy) - ry);
      box.add(num0(a.cx) + rx, num0(a.cy) + ry);
      break;
    }
    case "polyline":
    case "polygon": {
      const v = numbers(a.points ?? "");
      for (let i = 0; i + 1 < v.length; i += 2) box.add(v[i]!, v[i + 1]!);
      break;
    }
    case "text": {
      const size = num0(a["font-size"], 16);
      const len = Math.max(1, [...unescape(text)].length);
      const x = num0(a.x);
      const y = num0(a.y);
      // generous: any anchor, any baseline
      box.add(x - len * size, y - 2 * size);
      box.add(x + len * size, y + 2 * size);
      break;
    }
  }
  if (Number.isNaN(box.x0 + box.y0) && !box.empty) box.finite = false;
  return box;
}

function transformBox(m: Matrix, b: Box): Box {
  const out = new Box();
  out.finite = b.finite;
  if (b.empty) return out;
  for (const [x, y] of [
    [b.x0, b.y0],
    [b.x1, b.y0],
    [b.x0, b.y1],
    [b.x1, b.y1],
  ] as const)
    out.add(m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]);
  return out;
}

export interface SvgGuardResult {
  svg: string;
  /** Elements removed: entirely outside the (widened) canvas, or with non-finite geometry. */
  removed: number;
}

/** The canvas of the root `<svg>` in user units: its viewBox, else [0, 0, width, height]. */
function canvasOf(
  a: Record<string, string>,
): [number, number, number, number] | undefined {
  const vb = numbers(a.viewBox ?? "");
  if (vb.length === 4 && vb.every(Number.isFinite) && vb[2]! > 0 && vb[3]! > 0)
    return vb as [number, number, number, number];
  const w = num0(a.width, NaN);
  const h = num0(a.height, NaN);
  if (a.width?.includes("%") || a.height?.includes("%")) return undefined;
  return w > 0 && h > 0 ? [0, 0, w, h] : undefined;
}

/**
 * Removes the elements of `svg` that would make resvg abort (see the file comment). Returns the
 * input unchanged when it cannot be understood.
 */
export function guardSvg(svg: string): SvgGuardResult {
  const tagRe =
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<![^>]*>|<\?[\s\S]*?\?>|<\/([^\s>]+)\s*>|<([^\s/>!?]+)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
  interface Frame {
    name: string;
    ctm: Matrix | undefined; // undefined: unknown coordinates (nothing below is touched)
    remove?: { start: number };
    textStart?: number;
    attrs?: Record<string, string>;
  }
  const stack: Frame[] = [];
  const cuts: [number, number][] = [];
  let canvas: [number, number, number, number] | undefined;
  let rootSeen = false;
  let m: RegExpExecArray | null;
  const outside = (b: Box): boolean => {
    if (!canvas) return false;
    if (!b.finite) return true;
    if (b.empty) return false;
    const [vx, vy, vw, vh] = canvas;
    const mx = 0.5 * vw;
    const my = 0.5 * vh;
    return (
      b.x1 < vx - mx ||
      b.x0 > vx + vw + mx ||
      b.y1 < vy - my ||
      b.y0 > vy + vh + my
    );
  };
  const decide = (tag: Tag, ctm: Matrix | undefined, text: string): boolean => {
    if (!ctm || !DRAWABLE.has(tag.name)) return false;
    if (tag.attrs.display === "none") return false;
    const own = parseTransform(tag.attrs.transform);
    if (!own) return false;
    const local = elementBox(tag.name, tag.attrs, text);
    if (!local.empty && local.finite) {
      const sw = num0(tag.attrs["stroke-width"], 1);
      local.grow(Number.isFinite(sw) ? Math.abs(sw) / 2 + 1 : 1);
    }
    return outside(transformBox(multiply(ctm, own), local));
  };
  while ((m = tagRe.exec(svg))) {
    const [whole, closeName, openName, attrText, slash] = m;
    if (closeName !== undefined) {
      const f = stack.pop();
      if (!f || f.name !== closeName) return { svg, removed: 0 }; // not well-formed: leave it
      if (f.textStart !== undefined && f.attrs) {
        const tag: Tag = {
          name: f.name,
          attrs: f.attrs,
          start: f.textStart,
          end: m.index,
          selfClosing: false,
        };
        const parent = stack[stack.length - 1];
        if (
          decide(
            tag,
            parent?.ctm,
            svg.slice(f.textStart, m.index).replace(/<[^>]*>/g, ""),
          )
        )
          cuts.push([f.remove!.start, m.index + whole.length]);
      } else if (f.remove) cuts.push([f.remove.start, m.index + whole.length]);
      continue;
    }
    if (openName === undefined) continue; // comment, doctype, processing instruction
    const attrs = parseAttrs(attrText ?? "");
    const parent = stack[stack.length - 1];
    const selfClosing = slash === "/";
    if (!rootSeen) {
      if (openName !== "svg") return { svg, removed: 0 };
      rootSeen = true;
      canvas = canvasOf(attrs);
      if (!canvas) return { svg, removed: 0 };
      if (!selfClosing) stack.push({ name: openName, ctm: IDENTITY });
      continue;
    }
    const ctm = parent?.ctm;
    if (openName === "text" && !selfClosing && ctm) {
      // decided at its closing tag, once the text content is known
      stack.push({
        name: openName,
        ctm: undefined,
        remove: { start: m.index },
        textStart: m.index + whole.length,
        attrs,
      });
      continue;
    }
    if (selfClosing) {
      const tag: Tag = {
        name: openName,
        attrs,
        start: m.index,
        end: m.index + whole.length,
        selfClosing,
      };
      if (decide(tag, ctm, "")) cuts.push([tag.start, tag.end]);
      continue;
    }
    let childCtm: Matrix | undefined;
    if (ctm && !OPAQUE.has(openName)) {
      const own = parseTransform(attrs.transform);
      childCtm = own ? multiply(ctm, own) : undefined;
    }
    if (DRAWABLE.has(openName) && ctm) {
      // a drawable with children (e.g. <path><title/></path>): judged on its own geometry
      const tag: Tag = {
        name: openName,
        attrs,
        start: m.index,
        end: -1,
        selfClosing,
      };
      if (decide(tag, ctm, "")) {
        stack.push({
          name: openName,
          ctm: undefined,
          remove: { start: m.index },
        });
        continue;
      }
    }
    stack.push({ name: openName, ctm: childCtm });
  }
  if (stack.length > 0) return { svg, removed: 0 };
  if (cuts.length === 0) return { svg, removed: 0 };
  cuts.sort((a, b) => a[0] - b[0]);
  let out = "";
  let pos = 0;
  let removed = 0;
  for (const [a, b] of cuts) {
    if (a < pos) continue; // nested in an earlier cut
    out += svg.slice(pos, a);
    pos = b;
    removed++;
  }
  out += svg.slice(pos);
  return { svg: out, removed };
}
