import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";

/** Font families tried in order; the first one with a file on this machine is used for every figure. */
export const PREFERRED_FAMILIES = [
  "DejaVu Sans",
  "Liberation Sans",
  "Noto Sans",
  "Arial",
  "Helvetica",
  "FreeSans",
];

/** Family used when no font file could be found at all (resvg then falls back to whatever it has). */
export const GENERIC_FAMILY = "sans-serif";

const FONT_DIRS = [
  "/usr/share/fonts",
  "/usr/local/share/fonts",
  join(homedir(), ".fonts"),
  join(homedir(), ".local/share/fonts"),
];

export interface FontChoice {
  /** Family name to put in SVG `font-family` and the Vega config. */
  family: string;
  /** Font files of that family (regular, bold, ...), handed to the rasteriser explicitly. */
  files: string[];
}

function listFontFiles(dir: string, depth = 0, out: string[] = []): string[] {
  if (depth > 4 || !existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) listFontFiles(p, depth + 1, out);
    else if (/\.(ttf|otf)$/i.test(name)) out.push(p);
  }
  return out;
}

let cached: FontChoice | undefined;

/**
 * Picks the sans-serif family for figures: the first of PREFERRED_FAMILIES whose files exist
 * (matched by file name, e.g. `DejaVuSans.ttf`), else the first font file found, else GENERIC_FAMILY.
 */
export function chooseFont(): FontChoice {
  if (cached) return cached;
  const files = FONT_DIRS.flatMap((d) => listFontFiles(d));
  for (const family of PREFERRED_FAMILIES) {
    const stem = family.replace(/\s+/g, "").toLowerCase();
    // "DejaVuSans.ttf", "DejaVuSans-Bold.ttf" but not "DejaVuSansMono.ttf" / "DejaVuSansCondensed.ttf"
    const match = files.filter((f) => {
      const b = basename(f)
        .toLowerCase()
        .replace(/\.(ttf|otf)$/, "");
      return b === stem || b.startsWith(`${stem}-`);
    });
    if (match.length > 0) return (cached = { family, files: match });
  }
  if (files.length > 0) {
    const first = basename(files[0]!)
      .replace(/\.(ttf|otf)$/i, "")
      .replace(/-.*$/, "");
    return (cached = { family: first, files: [files[0]!] });
  }
  return (cached = { family: GENERIC_FAMILY, files: [] });
}
