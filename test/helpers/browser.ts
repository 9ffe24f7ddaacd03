/**
 * Chromium for the browser tests: Debian's /usr/bin/chromium through
 * playwright-core, each context in its own fresh user-data dir. Outside CI a
 * missing Chromium skips the tests (saying so); in CI it is a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** false when Chromium is there; the skip message outside CI; throws in CI. */
export function chromiumSkip(what: string): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install the chromium package (${what})`);
  return `SKIPPED: no Chromium at ${CHROMIUM} (install Debian's chromium package to run ${what})`;
}

/** A browser of its own (a fresh profile): cookies are not shared with any other context. */
export async function newContext(): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1200, height: 860 },
  });
  context.on('close', () => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      // Chromium may still be writing its profile; a temp dir left behind is harmless.
    }
  });
  context.setDefaultTimeout(20_000);
  return context;
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
