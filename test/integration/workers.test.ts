// serve --workers 2: the edge listeners in two cluster workers on shared ports. Revocations,
// mode switches and the primary's session ticket keys reach every worker; the metrics endpoint
// sums them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseStat } from '../../loadtest/proc-cpu.js';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';
import { startServe, type Served } from '../helpers/serve.js';
import { connectWithTicket, ticketKeysSetAt } from '../helpers/tickets.js';
import { tempDir } from '../helpers/tmp.js';

describe('serve --workers 2', () => {
  const dir = tempDir('strictedge-workers-');
  const state = join(dir, 'state');
  let served: Served;
  let edgeCa: string;
  let apiKey: string;
  let httpsPort: number;

  before(async () => {
    // Session ticket keys replaced every 2 s, by the primary for both workers (see the resumption test).
    served = await startServe(['--demo', '--workers', '2', '--ticket-key-rotation', '2', '--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--log-level', 'warn']);
    edgeCa = readFileSync(served.ready.edge_ca, 'utf8');
    apiKey = readFileSync(join(state, 'data', 'demo-api-key'), 'utf8').trim();
    httpsPort = Number(new URL(served.ready.https).port);
  });
  after(() => served?.stop());

  /** One request on a new connection: round-robin spreads them over both workers. */
  const get = (host: string) =>
    new Promise<{ status: number; verdict: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: httpsPort, servername: host, headers: { host }, ca: edgeCa, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, verdict: res.headers['x-strictedge-verdict'] as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
  const statuses = async (host: string, n = 16) => (await Promise.all(Array.from({ length: n }, () => get(host)))).map((r) => r.status);
  const api = async (method: string, path: string, body?: unknown) => (await fetch(`${served.ready.api}${path}`, { method, headers: { 'x-auth-user-service-key': apiKey, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })).json() as Promise<any>;
  async function until(host: string, status: number) {
    for (let i = 0; i < 60; i++) {
      const seen = await statuses(host);
      if (seen.every((s) => s === status)) return;
      await sleep(100);
    }
    assert.fail(`${host} never answered ${status} on every worker`);
  }

  it('says it runs two workers and serves the demo from both', async () => {
    assert.equal(served.ready.workers, 2);
    assert.deepEqual(await statuses('strict-ecc.test'), Array(16).fill(200));
    assert.deepEqual(await statuses('revoked.test'), Array(16).fill(526));
  });

  it("resumes a client's TLS session on whichever worker its next connection reaches, and neither resumes it once the primary has replaced the ticket keys", async () => {
    const connectOnce = (session?: Buffer) => connectWithTicket(httpsPort, 'strict-ecc.test', edgeCa, session);
    // When the workers' keys were made (the oldest worker's): a change means a rotation.
    const keysSetAt = () => ticketKeysSetAt(served.ready.metrics);
    let ticket: Buffer | undefined;
    let keysOfTicketSetAt = 0;
    // Round-robin alternates the workers, so six connections reach both of them three times. Keys
    // of their own per worker would fail every other resumption here. A rotation falling within
    // the seven connections makes the attempt say nothing: it is tried again.
    for (let attempt = 0; attempt < 5 && !ticket; attempt++) {
      const setAt = await keysSetAt();
      const first = await connectOnce();
      assert.ok(first.ticket, 'the edge sent a session ticket');
      const reused: boolean[] = [];
      for (let i = 0; i < 6; i++) reused.push((await connectOnce(first.ticket)).reused);
      await sleep(50); // a rotation under way reaches both workers
      if ((await keysSetAt()) !== setAt) continue;
      assert.deepEqual(reused, Array(6).fill(true));
      [ticket, keysOfTicketSetAt] = [first.ticket, setAt];
    }
    assert.ok(ticket, 'five attempts, each with a rotation in between');
    for (let waited = 0; (await keysSetAt()) === keysOfTicketSetAt && waited < 6000; waited += 100) await sleep(100);
    assert.ok((await keysSetAt()) > keysOfTicketSetAt, 'the primary replaced the keys within the rotation interval');
    const reusedAfter: boolean[] = [];
    for (let i = 0; i < 4; i++) reusedAfter.push((await connectOnce(ticket)).reused);
    assert.deepEqual(reusedAfter, Array(4).fill(false), 'a ticket from before the rotation resumes on neither worker');
  });

  it('starts the workers with the server V8 flags, though the primary was started without them', () => {
    const children = readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .map((pid) => {
        try {
          return { ppid: parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ppid, argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') };
        } catch {
          return undefined; // gone meanwhile
        }
      })
      .filter((p) => p?.ppid === served.process.pid);
    assert.equal(children.length, 2);
    for (const child of children) for (const flag of SERVER_NODE_FLAGS) assert.ok(child!.argv.includes(flag), `worker argv: ${child!.argv.join(' ')}`);
  });

  it('a mode switch through the API reaches every worker', async () => {
    const zones = await api('GET', '/zones?per_page=50');
    const full = zones.result.find((z: { name: string }) => z.name === 'full.test');
    assert.deepEqual(await statuses('full.test'), Array(16).fill(200));
    assert.equal((await api('PATCH', `/zones/${full.id}/settings/ssl`, { value: 'strict' })).success, true);
    await until('full.test', 526);
  });

  it('a revocation reaches every worker', async () => {
    const certs = await api('GET', '/certificates?per_page=100');
    const live = certs.result.filter((c: { hostnames: string[]; revoked_at: string | null }) => c.hostnames.includes('strict-ecc.test') && c.revoked_at === null);
    assert.ok(live.length > 0);
    for (const cert of live) assert.equal((await api('DELETE', `/certificates/${cert.id}`)).success, true);
    await until('strict-ecc.test', 526);
    assert.equal((await get('strict-ecc.test')).verdict, 'revoked');
  });

  it('one metrics endpoint sums the workers', async () => {
    const text = await (await fetch(served.ready.metrics)).text();
    const count = (zone: string, code: string) => Number(new RegExp(`^strictedge_edge_requests_total\\{zone="${zone}",mode="[a-z_]+",code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    assert.ok(count('strict-ecc\\.test', '200') >= 16, text.slice(0, 400));
    assert.ok(count('revoked\\.test', '526') === 16);
    assert.match(text, /^strictedge_edge_revocation_last_seq \d+/m);
  });
});

describe('serve --workers 2 --ticket-key-rotation 0', () => {
  let served: Served;
  after(() => served?.stop());

  it("resumes a client's TLS session on either worker with Node's own keys, which its cluster gives every worker", async () => {
    const state = join(tempDir('strictedge-workers-norotation-'), 'state');
    served = await startServe(['--demo', '--workers', '2', '--ticket-key-rotation', '0', '--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--log-level', 'warn']);
    const [port, ca] = [Number(new URL(served.ready.https).port), readFileSync(served.ready.edge_ca, 'utf8')];
    const first = await connectWithTicket(port, 'strict-ecc.test', ca);
    assert.ok(first.ticket, 'the edge sent a session ticket');
    // Round-robin: six connections reach both workers three times each.
    const reused: boolean[] = [];
    for (let i = 0; i < 6; i++) reused.push((await connectWithTicket(port, 'strict-ecc.test', ca, first.ticket)).reused);
    assert.deepEqual(reused, Array(6).fill(true));
  });
});
