import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { REPO_ROOT } from "./helpers/test-paths.ts";

/** Debian's Chromium (installed by scripts/setup-browser.sh). */
const CHROMIUM = "/usr/bin/chromium";

/**
 * Opens headless Chromium with a fresh profile and nothing that talks to the network on its own.
 * Installs Debian's chromium first when it is missing (scripts/setup-browser.sh).
 */
export async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    execFileSync("bash", [join(REPO_ROOT, "scripts", "setup-browser.sh")], { stdio: "inherit" });
  }
  const profile = mkdtempSync(join(tmpdir(), "orchard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
