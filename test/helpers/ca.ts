// A real CA on a temp state folder, served over HTTP on a free loopback port.
import type { AddressInfo } from 'node:net';
import { openCa, type CaApp } from '../../src/app.js';
import { createApiServer, API_BASE } from '../../src/api/server.js';
import { silentLogger } from '../../src/log.js';
import { createKeyUseRecorder } from '../../src/api/key-use.js';
import type { Clock } from '../../src/clock.js';
import { systemClock } from '../../src/clock.js';

export interface TestCa {
  readonly app: CaApp;
  readonly dir: string;
  readonly api: string;
  /** Creates an account with zones; returns its API key and zone ids by name. */
  account(name: string, zones: readonly string[]): { key: string; zoneIds: Record<string, string> };
  close(): Promise<void>;
}

/** Call from a before() hook; pair with after(() => ca.close()) in the suite body. */
export async function startTestCa(dir: string, options: { clock?: Clock; bodyLimit?: number; maxHostnames?: number; headersTimeoutMs?: number } = {}): Promise<TestCa> {
  const app = await openCa({ dir, clock: options.clock ?? systemClock, ...(options.maxHostnames ? { maxHostnames: options.maxHostnames } : {}) });
  const keyUse = createKeyUseRecorder((keyId, at) => app.accounts.recordKeyUse(keyId, at), options.clock ?? systemClock, silentLogger);
  const server = createApiServer({ accounts: app.accounts, ca: app.ca, zones: app.zones, crls: app.crls, roots: app.roots, edgeFeed: app.edgeFeed, logger: silentLogger, keyUse, ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}), ...(options.headersTimeoutMs ? { headersTimeoutMs: options.headersTimeoutMs } : {}) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await app.close();
  };
  return {
    app,
    dir,
    api: `http://127.0.0.1:${port}${API_BASE}`,
    account(name, zones) {
      const { apiKey } = app.admin.createAccount(name);
      const zoneIds: Record<string, string> = {};
      for (const zone of zones) zoneIds[zone] = app.admin.addZone({ name: zone, account: name }).id;
      return { key: apiKey, zoneIds };
    },
    close,
  };
}

export async function api(base: string, method: string, path: string, options: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers['x-auth-user-service-key'] = options.key;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const json = (await response.json()) as { success: boolean; errors: { code: number; message: string }[]; result: any; result_info?: any };
  return { status: response.status, headers: response.headers, ...json };
}
