// Debian's Chromium driven by playwright-core, headless, with every request the page makes recorded.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots land here (git-ignored), for a human to look at when a test fails. */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface BrowserSession {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly requests: RecordedRequest[];
  readonly pageErrors: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(options: { width?: number; height?: number; args?: readonly string[] } = {}): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No sandbox: CI runs as root in a container. No background traffic: the page must need only the CA.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', ...(options.args ?? [])],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: options.width ?? 1100, height: options.height ?? 900 } });
  const page = await context.newPage();
  const requests: RecordedRequest[] = [];
  const pageErrors: string[] = [];
  page.on('request', (request) => requests.push({ method: request.method(), url: request.url(), headers: request.headers(), body: request.postData() ?? '' }));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    browser,
    context,
    page,
    requests,
    pageErrors,
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
    close: () => browser.close(),
  };
}

/** Clicks `trigger` and saves the download it starts into `path`. */
export async function download(page: Page, trigger: () => Promise<void>, path: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), trigger()]);
  await file.saveAs(path);
  return file.suggestedFilename();
}
