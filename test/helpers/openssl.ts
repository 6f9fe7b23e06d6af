// Runs the real openssl binary; CSRs and keys for tests are made by it, not by our code.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function openssl(args: readonly string[], input?: string | Buffer): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Like openssl() but returns status and both streams instead of throwing. */
export function opensslResult(args: readonly string[], input?: string | Buffer) {
  const result = spawnSync('openssl', args, { input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export type TestKey = 'p256' | 'p384' | 'rsa2048' | 'rsa1024' | 'rsa4096' | 'ed25519';

const KEY_ARGS: Record<TestKey, string[]> = {
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  rsa2048: ['-newkey', 'rsa:2048'],
  rsa1024: ['-newkey', 'rsa:1024'],
  rsa4096: ['-newkey', 'rsa:4096'],
  ed25519: ['-newkey', 'ed25519'],
};

/** A CSR and its key, made by `openssl req` in `dir`. */
export function opensslCsr(dir: string, key: TestKey, name = 'csr'): { csr: string; keyPath: string; keyPem: string } {
  const keyPath = join(dir, `${name}.key`);
  const csrPath = join(dir, `${name}.csr`);
  openssl(['req', '-new', ...KEY_ARGS[key], '-nodes', '-keyout', keyPath, '-subj', '/CN=ignored.example', '-out', csrPath]);
  return { csr: readFileSync(csrPath, 'utf8'), keyPath, keyPem: readFileSync(keyPath, 'utf8') };
}

export function writeTemp(dir: string, name: string, data: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

/** A P-256 root, and leaves it signs for the given DNS names. */
export function opensslRoot(dir: string, name: string) {
  const [key, cert] = [join(dir, `${name}.key`), join(dir, `${name}.pem`)];
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return {
    pem: readFileSync(cert, 'utf8'),
    /** Serials are 16 bytes, as the Origin CA makes them (the index holds no other length). */
    leaf(leafName: string, dnsNames: string[]) {
      const serial = `0x${(0x10 + Math.floor(Math.random() * 0x6f)).toString(16)}${randomBytes(15).toString('hex')}`;
      const [leafKey, csr, leafCert] = [join(dir, `${leafName}.key`), join(dir, `${leafName}.csr`), join(dir, `${leafName}.pem`)];
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-out', csr, '-subj', `/CN=${leafName}`]);
      const ext = writeTemp(dir, `${leafName}.ext`, `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}\nauthorityKeyIdentifier=keyid\n`);
      openssl(['x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-set_serial', serial, '-days', '7', '-extfile', ext, '-out', leafCert]);
      return { cert: readFileSync(leafCert, 'utf8'), key: readFileSync(leafKey, 'utf8') };
    },
  };
}
