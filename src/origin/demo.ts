// The demo's origins: one zone per case the edge must decide, each with an origin built to
// provoke it. `serve --demo` prints the table; the edge tests drive the same cases.
import { createServer, type AddressInfo } from 'node:net';
import type { CaApp } from '../app.js';
import type { Account } from '../store/accounts.js';
import type { SslMode } from '../store/zones.js';
import type { Clock } from '../clock.js';
import { createKeyAndCsr } from '../pki/csr-build.js';
import { derToPem } from '../pki/formats.js';
import { generateKey, privateKeyPem, randomSerial, signSha256, spkiDer } from '../pki/keys.js';
import { generateRoot, loadRoot, type OriginRoot } from '../pki/root.js';
import { startOrigin, type RunningOrigin } from './server.js';

export interface DemoCase {
  readonly zone: string;
  readonly mode: SslMode;
  readonly scheme: 'http' | 'https';
  readonly status: number;
  readonly verdict?: string;
  readonly what: string;
}

export const DEMO_CASES: readonly DemoCase[] = [
  { zone: 'strict-ecc.test', mode: 'strict', scheme: 'https', status: 200, what: 'origin-ecc certificate' },
  { zone: 'strict-rsa.test', mode: 'strict', scheme: 'https', status: 200, what: 'origin-rsa certificate' },
  { zone: 'full.test', mode: 'full', scheme: 'https', status: 200, what: 'self-signed origin, not checked' },
  { zone: 'flexible.test', mode: 'flexible', scheme: 'https', status: 200, what: 'HTTP-only origin' },
  { zone: 'off.test', mode: 'off', scheme: 'https', status: 301, what: 'HTTPS redirected to http://' },
  { zone: 'expired.test', mode: 'strict', scheme: 'https', status: 526, verdict: 'expired', what: 'Origin CA certificate past notAfter' },
  { zone: 'wrong-host.test', mode: 'strict', scheme: 'https', status: 526, verdict: 'hostname_mismatch', what: 'certificate for another zone' },
  { zone: 'forged.test', mode: 'strict', scheme: 'https', status: 526, verdict: 'unknown_certificate', what: 'signed with the Origin root key, never issued' },
  { zone: 'untrusted.test', mode: 'strict', scheme: 'https', status: 526, verdict: 'untrusted', what: 'signed by another CA' },
  { zone: 'revoked.test', mode: 'strict', scheme: 'https', status: 526, verdict: 'revoked', what: 'revoked through the API' },
  { zone: 'down.test', mode: 'strict', scheme: 'https', status: 521, what: 'nothing listening' },
  { zone: 'slow.test', mode: 'flexible', scheme: 'https', status: 524, what: 'origin never answers' },
  { zone: 'tls-garbage.test', mode: 'full', scheme: 'https', status: 525, what: 'plain HTTP on the TLS port' },
  { zone: 'nxdomain.test', mode: 'strict', scheme: 'https', status: 530, what: "origin's name does not resolve" },
];

/** The nxdomain.test origin: .invalid never resolves (RFC 6761). */
const UNRESOLVABLE_ORIGIN = 'origin.nxdomain.invalid';

interface KeyAndCert {
  readonly cert: string;
  readonly key: string;
}

async function leafFrom(root: OriginRoot, hostnames: string[], notBefore: Date, notAfter: Date): Promise<KeyAndCert> {
  const { publicKey, privateKey } = await generateKey({ keyType: root.keyType, size: root.keyType === 'ecdsa' ? 256 : 2048 });
  const tbs = root.template.tbs({ serial: randomSerial(), notBefore, notAfter, hostnames, spkiDer: spkiDer(publicKey) });
  const der = root.template.certificate(tbs, await signSha256(root.key, tbs));
  return { cert: derToPem(der, 'CERTIFICATE'), key: privateKeyPem(privateKey) };
}

async function issued(app: CaApp, account: Account, hostnames: string[], keyType: 'ecdsa' | 'rsa'): Promise<KeyAndCert & { serial: string }> {
  const { keyPem, csrPem } = await createKeyAndCsr({ keyType, size: keyType === 'ecdsa' ? 256 : 2048 }, hostnames);
  const record = await app.ca.issue(account, { csr: csrPem, hostnames, requestType: keyType === 'ecdsa' ? 'origin-ecc' : 'origin-rsa', requestedValidity: 7 });
  return { cert: record.pem, key: keyPem, serial: record.serial };
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface DemoOrigins {
  readonly origins: readonly RunningOrigin[];
  close(): Promise<void>;
}

/** Creates (or re-points) one zone per case in `accountName`, with its origin running. */
export async function startDemoOrigins(app: CaApp, accountName: string, clock: Clock): Promise<DemoOrigins> {
  const account = app.admin.account(accountName);
  const now = clock();
  const day = 86_400_000;
  const valid = [new Date(now.getTime() - 60_000), new Date(now.getTime() + 7 * day)] as const;
  const otherCa = loadRoot(...Object.values(await generateRoot('ecdsa', now, { organization: 'Elsewhere', organizationalUnit: 'Demo', commonName: 'Untrusted Demo CA' })) as [string, string]);
  const selfSigned = await generateRoot('ecdsa', now, { organization: 'demo', organizationalUnit: 'full.test', commonName: 'full.test' });

  // Zones first: the CA issues only for names in the account's zones.
  const zoneIds = new Map<string, string>();
  for (const demo of DEMO_CASES) {
    const zone = app.zoneStore.byName(demo.zone) ?? app.admin.addZone({ name: demo.zone, account: accountName, mode: demo.mode });
    zoneIds.set(demo.zone, zone.id);
  }

  const httpOrigin = await startOrigin({ name: 'http-origin' });
  const origins: RunningOrigin[] = [httpOrigin];
  const https = async (name: string, tls: KeyAndCert) => {
    const origin = await startOrigin({ name, tls });
    origins.push(origin);
    return origin.address;
  };
  const revoked = await issued(app, account, ['revoked.test'], 'ecdsa');
  app.ca.revoke(account, revoked.serial);

  const httpsOrigins: Record<string, string | null> = {
    'strict-ecc.test': await https('strict-ecc', await issued(app, account, ['strict-ecc.test', '*.strict-ecc.test'], 'ecdsa')),
    'strict-rsa.test': await https('strict-rsa', await issued(app, account, ['strict-rsa.test', '*.strict-rsa.test'], 'rsa')),
    'full.test': await https('full', { cert: selfSigned.certPem, key: selfSigned.keyPem }),
    'flexible.test': null,
    'off.test': null,
    'expired.test': await https('expired', await leafFrom(app.roots.ecdsa, ['expired.test'], new Date(now.getTime() - 30 * day), new Date(now.getTime() - day))),
    'wrong-host.test': await https('wrong-host', await issued(app, account, ['strict-ecc.test'], 'ecdsa')),
    'forged.test': await https('forged', await leafFrom(app.roots.ecdsa, ['forged.test'], ...valid)),
    'untrusted.test': await https('untrusted', await leafFrom(otherCa, ['untrusted.test'], ...valid)),
    'revoked.test': await https('revoked', revoked),
    'down.test': `127.0.0.1:${await closedPort()}`,
    'slow.test': null,
    'tls-garbage.test': httpOrigin.address,
    'nxdomain.test': `${UNRESOLVABLE_ORIGIN}:443`,
  };
  const slow = await startOrigin({ name: 'slow', behaviour: 'silent' });
  origins.push(slow);

  const at = now.toISOString();
  for (const demo of DEMO_CASES) {
    const id = zoneIds.get(demo.zone)!;
    const originHttp = demo.zone === 'slow.test' ? slow.address : demo.zone === 'down.test' ? httpsOrigins['down.test']! : demo.zone === 'nxdomain.test' ? `${UNRESOLVABLE_ORIGIN}:80` : httpOrigin.address;
    app.zoneStore.setOrigins(id, originHttp, httpsOrigins[demo.zone] ?? null, at);
    app.zoneStore.setMode(id, demo.mode, at);
  }
  return { origins, close: async () => void (await Promise.all(origins.map((origin) => origin.close()))) };
}

/** The table `serve --demo` prints: one line per case with a curl command to try it. */
export function demoTable(edgeCaPath: string, httpsPort: number): string {
  const lines = [`${'zone'.padEnd(17)} ${'mode'.padEnd(9)} ${'expect'.padEnd(24)} try it`];
  for (const demo of DEMO_CASES) {
    const expect = `${demo.status}${demo.verdict ? ` ${demo.verdict}` : ''}`;
    lines.push(
      `${demo.zone.padEnd(17)} ${demo.mode.padEnd(9)} ${expect.padEnd(24)} curl -s -o /dev/null -w '%{http_code}\\n' --cacert ${edgeCaPath} --resolve ${demo.zone}:${httpsPort}:127.0.0.1 https://${demo.zone}:${httpsPort}/   # ${demo.what}`,
    );
  }
  return lines.join('\n');
}
