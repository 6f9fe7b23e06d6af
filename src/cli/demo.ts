// `serve --demo`: on first start, an account "demo" with a few zones, its key in data/demo-api-key.
import { existsSync } from 'node:fs';
import type { State } from '../app.js';
import { writeFileAtomic } from '../store/state-folder.js';

export const DEMO_ACCOUNT = 'demo';
export const DEMO_ZONES = ['demo.test', 'shop.test', 'blog.test', 'api.example.test'] as const;

/** Returns true if it created anything. */
export function ensureDemo(state: State, log: (line: string) => void): boolean {
  let created = false;
  if (!state.accounts.byName(DEMO_ACCOUNT)) {
    const { apiKey } = state.admin.createAccount(DEMO_ACCOUNT);
    writeFileAtomic(state.paths.demoApiKey, `${apiKey}\n`, { mode: 0o600 });
    created = true;
  } else if (!existsSync(state.paths.demoApiKey)) {
    writeFileAtomic(state.paths.demoApiKey, `${state.admin.createKey(DEMO_ACCOUNT)}\n`, { mode: 0o600 });
    created = true;
  }
  for (const name of DEMO_ZONES) {
    if (!state.zoneStore.byName(name)) {
      state.admin.addZone({ name, account: DEMO_ACCOUNT });
      created = true;
    }
  }
  if (created) log(`demo account "${DEMO_ACCOUNT}" with zones ${DEMO_ZONES.join(', ')}; API key in ${state.paths.demoApiKey}`);
  return created;
}

export function demoUsage(keyFile: string, apiUrl: string): string {
  return [
    'try the demo:',
    `  export STRICTEDGE_API_URL=${apiUrl}`,
    `  export STRICTEDGE_API_KEY=$(cat ${keyFile})`,
    '  node dist/src/cli/main.js getcert -hostnames demo.test,*.demo.test -key-type ecdsa -days 7',
  ].join('\n');
}
