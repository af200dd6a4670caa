import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { encodePng } from "../../src/report/png.js";
import {
  reportHtml,
  reportMarkdown,
  writeReport,
  type Report,
} from "../../src/report/report.js";
import { tempDir } from "./helpers.js";

function fixture(): { dir: string; report: Report } {
  const dir = tempDir();
  const png = encodePng({
    width: 2,
    height: 1,
    rgba: new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]),
  });
  writeFileSync(join(dir, "fig.png"), png);
  const report: Report = {
    title: "Validation <z=1>",
    meta: { command: "lodi validate", seed: 42 },
    sections: [
      {
        title: "Power spectrum",
        text: "First paragraph.\n\nSecond & last.",
        images: [{ path: join(dir, "fig.png"), caption: "P(k)" }],
      },
      {
        title: "Summary",
        tables: [
          {
            headers: ["k [h/Mpc]", "ratio"],
            rows: [
              [0.123456, 1.0000001],
              ["all", 0.98],
            ],
            caption: "ratios",
          },
        ],
      },
    ],
  };
  return { dir, report };
}

test("Markdown has the sections, a table and relative image links", () => {
  const { dir, report } = fixture();
  const md = reportMarkdown(report, dir);
  assert.match(md, /^# Validation <z=1>/);
  assert.match(md, /## Power spectrum/);
  assert.match(md, /## Summary/);
  assert.match(md, /\| k \[h\/Mpc\] \| ratio \|/);
  assert.match(md, /\| 0\.1235 \| 1 \|/);
  assert.match(md, /!\[P\(k\)\]\(fig\.png\)/);
  assert.match(md, /\*\*seed\*\*: 42/);
});

test("HTML is self-contained, escaped and contains every section", () => {
  const { dir, report } = fixture();
  const html = reportHtml(report, { htmlDir: dir });
  assert.match(html, /<h1>Validation &lt;z=1&gt;<\/h1>/);
  assert.match(html, /<h2>Power spectrum<\/h2>/);
  assert.match(html, /<h2>Summary<\/h2>/);
  assert.match(html, /<p>Second &amp; last\.<\/p>/);
  assert.match(html, /src="data:image\/png;base64,/);
  assert.match(html, /<td class="num">0\.1235<\/td>/);
  const linked = reportHtml(report, { htmlDir: dir, embedImages: false });
  assert.match(linked, /src="fig\.png"/);
});

test("writeReport writes both files and refuses to overwrite without force", () => {
  const { dir, report } = fixture();
  const md = join(dir, "report.md");
  const html = join(dir, "report.html");
  writeReport(report, { markdown: md, html, force: false });
  assert.match(readFileSync(md, "utf8"), /## Summary/);
  assert.match(readFileSync(html, "utf8"), /<\/html>/);
  assert.throws(
    () => writeReport(report, { markdown: md, force: false }),
    /already exists/,
  );
  writeReport(report, { markdown: md, force: true });
});
