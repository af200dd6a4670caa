import { readFileSync } from "node:fs";
import {
  dirname,
  extname,
  isAbsolute,
  relative,
  resolve,
  sep,
} from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
import { esc } from "./svg.js";
import { formatNumber } from "./ticks.js";

/** A figure file (PNG or SVG) with an optional caption. */
export interface ReportImage {
  path: string;
  caption?: string;
}

/** A table of numbers (or short strings); numbers are shown with `digits` significant digits (default 4). */
export interface ReportTable {
  headers: string[];
  rows: (number | string)[][];
  caption?: string;
  digits?: number;
}

export interface ReportSection {
  title: string;
  /** Plain text; blank lines separate paragraphs. */
  text?: string;
  images?: ReportImage[];
  tables?: ReportTable[];
}

export interface Report {
  title: string;
  sections: ReportSection[];
  /** Provenance shown under the title (e.g. command, seed, code version). */
  meta?: Record<string, string | number>;
}

export interface WriteReportOptions {
  /** Markdown output path (images linked relative to it). */
  markdown?: string;
  /** HTML output path. */
  html?: string;
  /** Embed images in the HTML as base64 (self-contained file, default true) instead of linking them. */
  embedImages?: boolean;
  /** Overwrite existing outputs (passed to writeFileAtomic). */
  force?: boolean;
}

function cell(v: number | string, digits: number): string {
  return typeof v === "number" ? formatNumber(v, digits) : v;
}

/** Image path as seen from `fromDir`, with forward slashes. */
function linkFrom(fromDir: string, path: string): string {
  const rel = isAbsolute(path)
    ? relative(fromDir, path)
    : relative(fromDir, resolve(path));
  return rel.split(sep).join("/");
}

function paragraphs(text: string | undefined): string[] {
  return (text ?? "")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

function mdEscapeCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Markdown text of the report; image links are relative to `mdDir` (the Markdown file's folder). */
export function reportMarkdown(report: Report, mdDir = "."): string {
  const out: string[] = [`# ${report.title}`, ""];
  if (report.meta && Object.keys(report.meta).length > 0) {
    for (const [k, v] of Object.entries(report.meta))
      out.push(`- **${k}**: ${String(v)}`);
    out.push("");
  }
  for (const s of report.sections) {
    out.push(`## ${s.title}`, "");
    for (const p of paragraphs(s.text)) out.push(p, "");
    for (const t of s.tables ?? []) {
      const d = t.digits ?? 4;
      if (t.caption) out.push(`*${t.caption}*`, "");
      out.push(`| ${t.headers.map(mdEscapeCell).join(" | ")} |`);
      out.push(`| ${t.headers.map(() => "---").join(" | ")} |`);
      for (const r of t.rows)
        out.push(`| ${r.map((v) => mdEscapeCell(cell(v, d))).join(" | ")} |`);
      out.push("");
    }
    for (const im of s.images ?? []) {
      out.push(
        `![${im.caption ?? ""}](${encodeURI(linkFrom(resolve(mdDir), im.path))})`,
      );
      if (im.caption) out.push("", `*${im.caption}*`);
      out.push("");
    }
  }
  return out.join("\n");
}

const MIME: Record<string, string> = {
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

function imageSrc(path: string, embed: boolean, htmlDir: string): string {
  if (!embed) return encodeURI(linkFrom(htmlDir, path));
  const mime = MIME[extname(path).toLowerCase()] ?? "application/octet-stream";
  return `data:${mime};base64,${readFileSync(path).toString("base64")}`;
}

const STYLE = `
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #eee; padding-bottom: .2em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; color: #555; font-size: .9em; }
dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; font-family: monospace; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .7em; } th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: .3em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-style: italic; color: #555; font-size: .92em; }
`;

/** Standalone HTML of the report; images embedded as base64 (default) or linked relative to `htmlDir`. */
export function reportHtml(
  report: Report,
  opts: { embedImages?: boolean; htmlDir?: string } = {},
): string {
  const embed = opts.embedImages ?? true;
  const htmlDir = resolve(opts.htmlDir ?? ".");
  const out: string[] = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<title>${esc(report.title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    `<h1>${esc(report.title)}</h1>`,
  ];
  if (report.meta && Object.keys(report.meta).length > 0) {
    out.push('<dl class="meta">');
    for (const [k, v] of Object.entries(report.meta))
      out.push(`<dt>${esc(k)}</dt><dd>${esc(String(v))}</dd>`);
    out.push("</dl>");
  }
  for (const s of report.sections) {
    out.push("<section>", `<h2>${esc(s.title)}</h2>`);
    for (const p of paragraphs(s.text)) out.push(`<p>${esc(p)}</p>`);
    for (const t of s.tables ?? []) {
      const d = t.digits ?? 4;
      out.push("<table>");
      if (t.caption) out.push(`<caption>${esc(t.caption)}</caption>`);
      out.push(
        `<thead><tr>${t.headers.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead>`,
        "<tbody>",
      );
      for (const r of t.rows) {
        out.push(
          `<tr>${r.map((v) => `<td${typeof v === "number" ? ' class="num"' : ""}>${esc(cell(v, d))}</td>`).join("")}</tr>`,
        );
      }
      out.push("</tbody>", "</table>");
    }
    for (const im of s.images ?? []) {
      out.push(
        "<figure>",
        `<img src="${imageSrc(im.path, embed, htmlDir)}" alt="${esc(im.caption ?? im.path)}">`,
        ...(im.caption ? [`<figcaption>${esc(im.caption)}</figcaption>`] : []),
        "</figure>",
      );
    }
    out.push("</section>");
  }
  out.push("</body>", "</html>", "");
  return out.join("\n");
}

/** Writes the Markdown and/or HTML report atomically. */
export function writeReport(report: Report, opts: WriteReportOptions): void {
  if (!opts.markdown && !opts.html)
    throw new Error("writeReport: give a markdown and/or html path");
  if (opts.markdown) {
    writeFileAtomic(
      opts.markdown,
      reportMarkdown(report, dirname(resolve(opts.markdown))),
      { force: opts.force },
    );
  }
  if (opts.html) {
    const html = reportHtml(report, {
      embedImages: opts.embedImages,
      htmlDir: dirname(resolve(opts.html)),
    });
    writeFileAtomic(opts.html, html, { force: opts.force });
  }
}
