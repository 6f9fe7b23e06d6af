// The dashboard's install guides, followed literally: for nginx, Apache httpd, HAProxy and Caddy
// the test makes a certificate in the page, downloads it, writes the config the page shows (with
// the folder, port and application address typed into the page), starts the real server on
// loopback, and the edge reaches it in strict mode.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { download, openBrowser, type BrowserSession } from '../helpers/browser.js';
import { edgeRequest, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { freePort, runNginxHttp } from '../helpers/nginx.js';
import { tempDir } from '../helpers/tmp.js';
import { startApache, startCaddy, startHaproxy, type RunningServer } from '../helpers/web-servers.js';

interface Guide {
  readonly server: 'nginx' | 'apache' | 'haproxy' | 'caddy';
  /** Starts the server with the config the page showed, in the distribution's default wrapping. */
  start(dir: string, port: number, config: string, page: Page): Promise<RunningServer>;
}

const GUIDES: Guide[] = [
  {
    server: 'nginx',
    // The page's file goes in conf.d, which Debian's nginx.conf includes inside http { }.
    start: (dir, port, config) => {
      const confD = join(dir, 'conf.d');
      mkdirSync(confD, { recursive: true });
      writeFileSync(join(confD, 'site.conf'), config);
      return runNginxHttp(join(dir, 'nginx'), port, `  include ${confD}/*.conf;`);
    },
  },
  { server: 'apache', start: (dir, port, config) => startApache(join(dir, 'apache'), port, config) },
  {
    server: 'haproxy',
    start: async (dir, port, config, page) => {
      // The page's shell step: cat the certificate and the key into one file, mode 0600.
      const shell = (await page.locator('#install-steps pre.shell').first().textContent())!;
      const [, pem, key, combined] = shell.match(/cat (\S+) (\S+) \| sudo tee (\S+)/)!;
      writeFileSync(combined!, readFileSync(join(dir, pem!)).toString() + readFileSync(join(dir, key!)).toString(), { mode: 0o600 });
      return startHaproxy(join(dir, 'haproxy'), port, config);
    },
  },
  { server: 'caddy', start: (dir, port, config) => startCaddy(join(dir, 'caddy'), port, config) },
];

describe('install guides, followed literally, reach strict mode', () => {
  const dir = tempDir('strictedge-guides-');
  chmodSync(dir, 0o755);
  let edge: TestEdge;
  let session: BrowserSession;
  let app: Server;
  let appAddress: string;
  const ports = new Map<string, number>();

  before(async () => {
    edge = await startTestEdge(join(dir, 'state'));
    app = createServer((req, res) => res.end(`app saw ${req.headers.host}\n`));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appAddress = `127.0.0.1:${(app.address() as AddressInfo).port}`;
    const { apiKey } = edge.app.admin.createAccount('guides');
    for (const { server } of GUIDES) {
      ports.set(server, await freePort());
      edge.app.admin.addZone({ name: `${server}-origin.test`, account: 'guides', mode: 'strict', originHttps: `127.0.0.1:${ports.get(server)}` });
    }
    session = await openBrowser();
    await session.page.goto(new URL('/', edge.api).href);
    await session.page.getByLabel('API key').fill(apiKey);
    await session.page.getByRole('button', { name: 'Sign in' }).click();
    await session.page.locator('#zone-rows tr').nth(GUIDES.length - 1).waitFor();
  });
  after(async () => {
    await session?.close();
    app?.close();
    await edge?.close();
  });

  for (const guide of GUIDES) {
    test(`${guide.server}: the page's config serves the downloaded certificate and the edge gets 200 in strict mode`, async () => {
      const { page } = session;
      const zone = `${guide.server}-origin.test`;
      const files = join(dir, guide.server);
      mkdirSync(files, { recursive: true });
      chmodSync(files, 0o755);

      await page.getByLabel('Zone', { exact: true }).selectOption({ label: zone });
      await page.getByRole('button', { name: 'Create certificate' }).click();
      await page.locator('#create-status', { hasText: 'issued' }).waitFor();
      await page.locator('input[name=format][value=pem]').check();
      await download(page, () => page.locator('#download-certificate').click(), join(files, `${zone}.pem`));
      await download(page, () => page.getByRole('button', { name: 'Download private key' }).click(), join(files, `${zone}.key`));

      await page.getByLabel('Web server').selectOption(guide.server);
      await page.getByLabel('Folder for the files on the server').fill(files);
      await page.getByLabel('HTTPS port').fill(String(ports.get(guide.server)));
      await page.getByLabel('Your application (HOST:PORT)').fill(appAddress);
      const config = (await page.locator(`#install-steps pre[data-file="${guide.server}"]`).textContent())!;
      const steps = (await page.locator('#install-steps').textContent())!;
      assert.match(steps, new RegExp(`switch ${zone.replace(/\./g, '\\.')} to "strict"`));
      // Each numbered step is an instruction, with the commands or file that carry it out inside it.
      const items = page.locator('#install-steps ol > li');
      assert.equal(await items.count(), await page.locator('#install-steps ol > li > p:first-child:not(.file-path)').count());
      assert.equal(await page.locator('#install-steps ol > li:first-child > pre').count(), 1, 'the first step holds its commands');
      assert.ok(config.includes(join(files, `${zone}`)), 'the config names the downloaded files in the folder typed in');
      await session.screenshot(`guide-${guide.server}`);

      const server = await guide.start(files, ports.get(guide.server)!, config, page);
      try {
        const response = await edgeRequest(edge, { scheme: 'https', host: zone });
        assert.equal(response.status, 200, response.body.toString());
        assert.equal(response.body.toString(), `app saw ${zone}\n`);
        const wildcard = await edgeRequest(edge, { scheme: 'https', host: `www.${zone}` });
        assert.equal(wildcard.status, 200, `the *.${zone} name works too: ${wildcard.body}`);
      } finally {
        await server.stop();
      }
    });
  }
});
