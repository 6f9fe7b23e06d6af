// Admin commands that work on the state folder directly:
//   strictedge accounts create NAME | accounts list
//   strictedge keys create --account NAME | keys revoke KEY_OR_ID | keys list [--account NAME]
//   strictedge zones add NAME --account A [--origin-https H:P] [--origin-http H:P] [--mode M]
//   strictedge zones set-mode NAME MODE | zones set-origin NAME ... | zones remove NAME | zones list [--account A]
//   strictedge edges create NAME | edges revoke NAME | edges list
//   strictedge ca init
//   strictedge backup DEST
import { openState } from '../app.js';
import { backupStateFolder } from '../store/backup.js';
import { initRoots } from '../ca/roots.js';
import type { Clock } from '../clock.js';
import type { Zone } from '../store/zones.js';
import { parseFlags, requiredPositional, stateOption, UsageError } from './args.js';

type Out = { stdout: (data: string) => void; log: (line: string) => void };

function withState<T>(dir: string, clock: Clock, run: (state: ReturnType<typeof openState>) => T): T {
  const state = openState({ dir, clock });
  try {
    return run(state);
  } finally {
    state.close();
  }
}

/** `live`, or when it was revoked: what the lists of keys and edges say of a credential. */
const standing = (revokedAt: string | null) => (revokedAt === null ? 'live' : `revoked=${revokedAt}`);

export function accounts(argv: readonly string[], clock: Clock, out: Out): void {
  const [action, ...rest] = argv;
  if (action === 'list') {
    const { values } = parseFlags(rest, stateOption);
    const list = withState(values.state, clock, (state) => state.admin.listAccounts());
    for (const account of list) out.stdout(`${account.id}  ${account.name}  keys=${account.liveKeys}  zones=${account.zones}  created=${account.createdAt}\n`);
    return;
  }
  if (action !== 'create') throw new UsageError('usage: strictedge accounts create NAME | accounts list');
  const { values, positionals } = parseFlags(rest, stateOption, 1);
  const name = requiredPositional(positionals, 0, 'account name');
  const { apiKey } = withState(values.state, clock, (state) => state.admin.createAccount(name));
  out.log(`created account ${name}; its API key follows (shown once, stored only as a hash)`);
  out.stdout(`${apiKey}\n`);
}

export function keys(argv: readonly string[], clock: Clock, out: Out): void {
  const [action, ...rest] = argv;
  if (action === 'create') {
    const { values } = parseFlags(rest, { ...stateOption, account: { type: 'string' } });
    if (!values.account) throw new UsageError('--account is required');
    const key = withState(values.state, clock, (state) => state.admin.createKey(values.account!));
    out.log(`created an API key for ${values.account} (shown once)`);
    out.stdout(`${key}\n`);
    return;
  }
  if (action === 'revoke') {
    const { values, positionals } = parseFlags(rest, stateOption, 1);
    const key = requiredPositional(positionals, 0, 'API key or key id');
    withState(values.state, clock, (state) => state.admin.revokeKey(key));
    out.log('API key revoked');
    return;
  }
  if (action === 'list') {
    // The id is what `keys revoke` takes, and the 24 hex digits after a key's "v1.0-": a key can
    // be told and withdrawn without being shown (only its hash is kept).
    const { values } = parseFlags(rest, { ...stateOption, account: { type: 'string' } });
    const list = withState(values.state, clock, (state) => state.admin.listKeys(values.account));
    for (const key of list) out.stdout(`${key.id}  ${key.accountName}  created=${key.createdAt}  ${standing(key.revokedAt)}  last_used=${key.lastUsedAt ?? 'never'}\n`);
    return;
  }
  throw new UsageError('usage: strictedge keys create --account NAME | keys revoke KEY_OR_ID | keys list [--account NAME]');
}

const zoneLine = (zone: Zone) => `${zone.id}  ${zone.name}  ${zone.sslMode}  https=${zone.originHttps ?? '-'}  http=${zone.originHttp ?? '-'}\n`;

export function zones(argv: readonly string[], clock: Clock, out: Out): void {
  const [action, ...rest] = argv;
  if (action === 'add') {
    const { values, positionals } = parseFlags(
      rest,
      { ...stateOption, account: { type: 'string' }, 'origin-https': { type: 'string' }, 'origin-http': { type: 'string' }, mode: { type: 'string' } },
      1,
    );
    const name = requiredPositional(positionals, 0, 'zone name');
    if (!values.account) throw new UsageError('--account is required');
    const zone = withState(values.state, clock, (state) =>
      state.admin.addZone({ name, account: values.account!, originHttps: values['origin-https'], originHttp: values['origin-http'], mode: values.mode }),
    );
    out.stdout(`${zone.id}  ${zone.name}  ${zone.sslMode}\n`);
    return;
  }
  if (action === 'set-mode') {
    const { values, positionals } = parseFlags(rest, stateOption, 2);
    const name = requiredPositional(positionals, 0, 'zone name');
    const mode = requiredPositional(positionals, 1, 'mode (off, flexible, full, strict, origin_pull)');
    const zone = withState(values.state, clock, (state) => state.admin.setZoneMode(name, mode));
    out.stdout(`${zone.id}  ${zone.name}  ${zone.sslMode}\n`);
    return;
  }
  if (action === 'set-origin') {
    const { values, positionals } = parseFlags(rest, { ...stateOption, 'origin-https': { type: 'string' }, 'origin-http': { type: 'string' } }, 1);
    const name = requiredPositional(positionals, 0, 'zone name');
    if (values['origin-https'] === undefined && values['origin-http'] === undefined) throw new UsageError('give --origin-https HOST:PORT and/or --origin-http HOST:PORT (none removes one)');
    const given = (value: string | undefined) => (value === 'none' ? null : value);
    const zone = withState(values.state, clock, (state) => state.admin.setZoneOrigins(name, { https: given(values['origin-https']), http: given(values['origin-http']) }));
    out.stdout(zoneLine(zone));
    return;
  }
  if (action === 'remove') {
    const { values, positionals } = parseFlags(rest, stateOption, 1);
    const name = requiredPositional(positionals, 0, 'zone name');
    const zone = withState(values.state, clock, (state) => state.admin.removeZone(name));
    out.log(`zone ${zone.name} removed: running edges answer 421 for it within a second`);
    return;
  }
  if (action === 'list') {
    const { values } = parseFlags(rest, { ...stateOption, account: { type: 'string' } });
    const list = withState(values.state, clock, (state) => state.admin.listZones(values.account));
    for (const zone of list) out.stdout(zoneLine(zone));
    return;
  }
  throw new UsageError('usage: strictedge zones add NAME --account A [...] | zones set-mode NAME MODE | zones set-origin NAME [--origin-https HOST:PORT|none] [--origin-http HOST:PORT|none] | zones remove NAME | zones list [--account A]');
}

export function edges(argv: readonly string[], clock: Clock, out: Out): void {
  const [action, ...rest] = argv;
  if (action === 'list') {
    const { values } = parseFlags(rest, stateOption);
    const list = withState(values.state, clock, (state) => state.admin.listEdges());
    for (const edge of list) {
      // Whether it follows: an edge asks again at least every minute while it runs.
      const contact = edge.lastContactAt === null ? 'last_contact=never' : `last_contact=${edge.lastContactAt}  events_behind=${edge.eventsBehind}`;
      out.stdout(`${edge.name}  created=${edge.createdAt}  ${standing(edge.revokedAt)}  ${contact}\n`);
    }
    return;
  }
  if (action !== 'create' && action !== 'revoke') throw new UsageError('usage: strictedge edges create NAME | edges revoke NAME | edges list');
  const { values, positionals } = parseFlags(rest, stateOption, 1);
  const name = requiredPositional(positionals, 0, 'edge name');
  if (action === 'revoke') {
    withState(values.state, clock, (state) => state.admin.revokeEdge(name));
    out.log(`edge ${name}'s token revoked: the CA refuses it from its next request`);
    return;
  }
  const token = withState(values.state, clock, (state) => state.admin.createEdge(name));
  out.log(`created edge ${name}; its token follows (shown once, stored only as a hash). Run it with: strictedge edge --ca-url URL --edge-token TOKEN --state DIR`);
  out.stdout(`${token}\n`);
}

export async function ca(argv: readonly string[], clock: Clock, out: Out): Promise<void> {
  const [action, ...rest] = argv;
  if (action !== 'init') throw new UsageError('usage: strictedge ca init [--state DIR]');
  const { values } = parseFlags(rest, stateOption);
  const state = openState({ dir: values.state, clock });
  try {
    const created = await initRoots(state.paths, clock());
    out.log(created.length ? `created roots: ${created.join(', ')}` : 'roots exist; nothing to do');
    out.stdout(`${state.paths.rootCert('ecdsa')}\n${state.paths.rootCert('rsa')}\n`);
  } finally {
    state.close();
  }
}

export async function backup(argv: readonly string[], out: Out): Promise<void> {
  const { values, positionals } = parseFlags(argv, stateOption, 1);
  const destination = requiredPositional(positionals, 0, 'backup folder (a new one)');
  const taken = await backupStateFolder(values.state, destination);
  out.log(`backed up ${taken.certificates} certificates, events up to seq ${taken.lastSeq}, the roots and the edge CA, keys included (0600); restore with serve stopped, by using it as --state`);
  out.stdout(`${destination}\n`);
}
