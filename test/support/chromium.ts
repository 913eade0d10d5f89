/**
 * Headless Chromium (Debian's `chromium`) for page checks: the DOM after the page's scripts
 * ran (--dump-dom), or a screenshot. Each run gets a fresh profile folder and no network
 * chatter of its own (no updates, sync or background requests).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec } from "./clients.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed (CI installs it with apt-get; a laptop may not have it). */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function chromium(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "nixport-chromium-"));
  try {
    const r = await exec(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`chromium ${args.join(" ")} exited with ${r.code}:\n${r.stderr.slice(-4000)}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM, serialised after it loaded and its scripts and event handlers ran. */
export function dumpDom(url: string): Promise<string> {
  return chromium(["--dump-dom", url]);
}

/** A PNG of the page at the given window size. */
export async function screenshot(url: string, file: string, size = { width: 1200, height: 1000 }): Promise<void> {
  await chromium([`--screenshot=${file}`, `--window-size=${size.width},${size.height}`, "--hide-scrollbars", url]);
  if (!existsSync(file)) throw new Error(`chromium wrote no screenshot to ${file}`);
}
