// `--access-log FILE` end to end, through the real `strictedge serve`: one JSON line per answered
// request with what routing learned (zone, mode, the 526 verdict, 421s under "unknown"), the path
// without its query, HTTP/2 clients' addresses, lines flushed at shutdown, the file 0640; requests
// Node's parser refuses; two edge workers appending to one file without tearing a line; a log that
// cannot be written (a full disk) said once while the edge goes on; a path that cannot be appended
// to refused in one line before anything starts; the file reopened on SIGUSR2 once logrotate has
// moved it, by every worker, and kept when the path cannot be opened.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { cli, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

const PORTS = ['--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--log-level', 'warn'];

type Line = Record<string, unknown>;

function readLines(path: string): Line[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

/** One HTTP/1.1 request to the edge; its status, request id and the body bytes that came. */
function get(ready: Record<string, string>, scheme: 'http' | 'https', host: string, path: string, method = 'GET'): Promise<{ status: number; requestId: string; bodyBytes: number }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode!, requestId: String(res.headers['x-request-id']), bodyBytes }));
    };
    const common = { host: '127.0.0.1', path, method, headers: { host, 'user-agent': 'access-log-test/1' }, agent: false as const };
    const req =
      scheme === 'https'
        ? httpsRequest({ ...common, port: Number(new URL(ready.https!).port), servername: host, ca: readFileSync(ready.edge_ca!, 'utf8') }, onResponse)
        : httpRequest({ ...common, port: Number(new URL(ready.http!).port) }, onResponse);
    req.on('error', reject);
    req.end();
  });
}

/** The files a process holds open, by path. */
function openFiles(pid: number): string[] {
  const fds = `/proc/${pid}/fd`;
  return readdirSync(fds).flatMap((fd) => {
    try {
      return [readlinkSync(join(fds, fd))];
    } catch {
      return []; // closed meanwhile
    }
  });
}

/** The processes that write the access log: `serve` itself, or its edge workers. */
function writers(pid: number, workers: boolean): number[] {
  if (!workers) return [pid];
  return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
}

describe('serve --access-log', () => {
  const dir = tempDir('strictedge-access-log-');
  let served: Served | undefined;
  after(() => served?.stop());

  it('writes one line per answered request, the path without its query, and flushes them at shutdown', async () => {
    const logPath = join(dir, 'access.log');
    served = await startServe(['--demo', '--state', join(dir, 'state'), ...PORTS, '--access-log', logPath]);
    const ready = served.ready;
    const ok = await get(ready, 'https', 'strict-ecc.test', '/a/b?token=secret-in-query');
    const refused = await get(ready, 'https', 'expired.test', '/');
    const noZone = await get(ready, 'http', 'nowhere.test', '/x?y=1');
    const head = await get(ready, 'https', 'strict-ecc.test', '/head', 'HEAD');
    assert.deepEqual([ok.status, refused.status, noZone.status, head.status], [200, 526, 421, 200]);
    /** One HTTP/2 request to the edge; its status and the body bytes that came. */
    const h2Get = (host: string, path: string) => {
      const session = http2Connect(ready.https, { ca: readFileSync(ready.edge_ca, 'utf8'), servername: host });
      return new Promise<{ status: number; bodyBytes: number }>((resolve, reject) => {
        const stream = session.request({ ':path': path, ':authority': host });
        let status = 0;
        let bodyBytes = 0;
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
        stream.on('end', () => resolve({ status, bodyBytes }));
        stream.on('error', reject);
      }).finally(() => session.close());
    };
    const h2 = await h2Get('strict-rsa.test', '/h2');
    const h2Refused = await h2Get('expired.test', '/h2'); // the edge's own page
    assert.deepEqual([h2.status, h2Refused.status], [200, 526]);
    await served.stop();
    served = undefined;

    const text = readFileSync(logPath, 'utf8');
    assert.doesNotMatch(text, /secret-in-query|y=1/, 'queries stay out of the log');
    const lines = readLines(logPath);
    assert.equal(lines.length, 6);
    const [first, second, third, headLine, fourth, h2RefusedLine] = lines as [Line, Line, Line, Line, Line, Line];
    assert.deepEqual(
      { ...first, time: undefined, duration_ms: undefined, origin_header_ms: undefined },
      { time: undefined, duration_ms: undefined, origin_header_ms: undefined, request_id: ok.requestId, client_ip: '127.0.0.1', protocol: 'HTTP/1.1', scheme: 'https', method: 'GET', host: 'strict-ecc.test', path: '/a/b', zone: 'strict-ecc.test', mode: 'strict', status: 200, body_bytes_sent: ok.bodyBytes, user_agent: 'access-log-test/1' },
    );
    // The body bytes the clients got: the origin's, the edge's own pages', none for HEAD, over HTTP/2 too.
    assert.ok(ok.bodyBytes > 0 && refused.bodyBytes > 0 && noZone.bodyBytes > 0 && h2.bodyBytes > 0 && h2Refused.bodyBytes > 0);
    assert.deepEqual(
      [second, third, headLine, fourth, h2RefusedLine].map((line) => line.body_bytes_sent),
      [refused.bodyBytes, noZone.bodyBytes, 0, h2.bodyBytes, h2Refused.bodyBytes],
    );
    assert.equal(headLine.method, 'HEAD');
    assert.ok(Math.abs(Date.parse(first.time as string) - Date.now()) < 60_000);
    assert.equal(typeof first.duration_ms, 'number');
    // The wait for the origin's answer head, within the whole; none where no origin answered.
    assert.ok((first.origin_header_ms as number) > 0 && (first.origin_header_ms as number) <= (first.duration_ms as number), JSON.stringify(first));
    assert.equal(typeof fourth.origin_header_ms, 'number');
    assert.deepEqual([second, third, h2RefusedLine].map((line) => line.origin_header_ms), [undefined, undefined, undefined]);
    assert.deepEqual([second.request_id, second.zone, second.status, second.verdict], [refused.requestId, 'expired.test', 526, 'expired']);
    assert.deepEqual([third.request_id, third.host, third.zone, third.mode, third.status, third.path], [noZone.requestId, 'nowhere.test', 'unknown', undefined, 421, '/x']);
    assert.deepEqual([fourth.protocol, fourth.client_ip, fourth.zone, fourth.status, fourth.path], ['HTTP/2', '127.0.0.1', 'strict-rsa.test', 200, '/h2']);
    assert.equal(statSync(logPath).mode & 0o777, 0o640);
  });

  it('writes a line for a WebSocket upgrade once it is answered: refused by strict mode with its verdict, or with no zone', async () => {
    const logPath = join(dir, 'upgrades.log');
    served = await startServe(['--demo', '--state', join(dir, 'state-upgrades'), ...PORTS, '--access-log', logPath]);
    const ready = served.ready;
    /** Opens a WebSocket through the edge; resolves with the status it was refused with. */
    const refusedWith = (url: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url, { headers: { host }, servername: host, ca: readFileSync(ready.edge_ca, 'utf8') } as never);
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        socket.on('open', () => reject(new Error('opened')));
        socket.on('error', () => undefined);
      });
    assert.equal(await refusedWith(`wss://127.0.0.1:${new URL(ready.https).port}/live?session=s3cret`, 'expired.test'), 526);
    assert.equal(await refusedWith(`ws://127.0.0.1:${new URL(ready.http).port}/live`, 'nowhere.test'), 421);
    // An h2c upgrade is a plain request to the edge: with a body it is refused from its head (400).
    const h2c = (body: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = tcpConnect(Number(new URL(ready.http).port), '127.0.0.1', () =>
          socket.write(`POST /h2c HTTP/1.1\r\nHost: flexible.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
        );
        let answer = '';
        socket.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk));
        socket.on('close', () => resolve(answer.split('\r\n')[0]!));
        socket.on('error', reject);
      });
    assert.equal(await h2c('hello'), 'HTTP/1.1 400 Bad Request');
    assert.equal(await h2c(''), 'HTTP/1.1 200 OK');
    await served.stop();
    served = undefined;
    assert.doesNotMatch(readFileSync(logPath, 'utf8'), /s3cret/);
    const lines = readLines(logPath);
    // The edge's refusals count their page's bytes, as its answers to requests do.
    assert.ok(lines.slice(0, 3).every((line) => typeof line.body_bytes_sent === 'number' && line.body_bytes_sent > 200), JSON.stringify(lines.map((line) => line.body_bytes_sent)));
    assert.deepEqual(
      lines.map((line) => [line.scheme, line.host, line.path, line.zone, line.mode, line.status, line.verdict]),
      [
        ['https', 'expired.test', '/live', 'expired.test', 'strict', 526, 'expired'],
        ['http', 'nowhere.test', '/live', 'unknown', undefined, 421, undefined],
        ['http', undefined, '/h2c', 'unknown', undefined, 400, undefined],
        ['http', 'flexible.test', '/h2c', 'flexible.test', 'flexible', 200, undefined],
      ],
    );
  });

  it("writes a line for a request Node's parser refuses: no method or path, zone unknown, the request id its client got", async () => {
    const logPath = join(dir, 'refused.log');
    served = await startServe(['--demo', '--state', join(dir, 'state-refused'), ...PORTS, '--access-log', logPath]);
    const ready = served.ready;
    /** Sends `head` raw over plain TCP or TLS; resolves with the answer's request id. */
    const refusedWith = (scheme: 'http' | 'https', head: string) =>
      new Promise<{ status: string; requestId: string; bodyBytes: number }>((resolve, reject) => {
        const port = Number(new URL(scheme === 'https' ? ready.https : ready.http).port);
        const send = () => socket.write(head);
        const socket =
          scheme === 'https'
            ? tlsConnect({ host: '127.0.0.1', port, servername: 'flexible.test', ca: readFileSync(ready.edge_ca, 'utf8'), ALPNProtocols: ['http/1.1'] }, send)
            : tcpConnect(port, '127.0.0.1', send);
        let answer = '';
        socket.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk));
        socket.on('close', () => resolve({ status: answer.split('\r\n')[0]!, requestId: /x-request-id: (\S+)/.exec(answer)?.[1] ?? '', bodyBytes: Buffer.byteLength(answer.split('\r\n\r\n')[1] ?? '') }));
        socket.on('error', reject);
      });
    const cookies = await refusedWith('http', `GET /a?token=t HTTP/1.1\r\nHost: flexible.test\r\nCookie: ${'c'.repeat(20 * 1024)}\r\n\r\n`);
    const malformed = await refusedWith('https', 'GET /b HTTP/1.1\r\nHost: flexible.test\r\nNo colon here\r\n\r\n');
    assert.deepEqual([cookies.status, malformed.status], ['HTTP/1.1 431 Request Header Fields Too Large', 'HTTP/1.1 400 Bad Request']);
    await served.stop();
    served = undefined;
    const lines = readLines(logPath).map((line) => ({ ...line, time: typeof line.time }));
    assert.ok(cookies.bodyBytes > 0 && malformed.bodyBytes > 0, 'each got a page');
    assert.deepEqual(lines, [
      { time: 'string', request_id: cookies.requestId, client_ip: '127.0.0.1', scheme: 'http', zone: 'unknown', status: 431, body_bytes_sent: cookies.bodyBytes, duration_ms: 0 },
      { time: 'string', request_id: malformed.requestId, client_ip: '127.0.0.1', scheme: 'https', zone: 'unknown', status: 400, body_bytes_sent: malformed.bodyBytes, duration_ms: 0 },
    ]);
  });

  it('keeps every line whole with two edge workers appending to the same file', { timeout: 60_000 }, async () => {
    const logPath = join(dir, 'workers-access.log');
    served = await startServe(['--demo', '--workers', '2', '--state', join(dir, 'state-workers'), ...PORTS, '--access-log', logPath]);
    const ready = served.ready;
    const ids = new Set<string>();
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => get(ready, 'http', 'flexible.test', `/batch/${batch}/${i}`)));
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        ids.add(answer.requestId);
      }
    }
    await served.stop();
    served = undefined;
    const lines = readLines(logPath); // throws on a torn line
    assert.equal(lines.length, 300);
    assert.deepEqual(new Set(lines.map((line) => line.request_id)), ids);
  });

  it('goes on answering when the log cannot be written (a full disk: /dev/full), and says so once', { timeout: 60_000 }, async () => {
    served = await startServe(['--demo', '--state', join(dir, 'state-full'), ...PORTS, '--access-log', '/dev/full']);
    const ready = served.ready;
    for (let batch = 0; batch < 5; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => get(ready, 'http', 'flexible.test', `/full/${i}`)));
      assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // past the once-a-second flush
    const { process: child, stderr } = served;
    await served.stop();
    served = undefined;
    assert.equal(child.exitCode, 0, stderr());
    const warnings = stderr()
      .split('\n')
      .filter((line) => line.includes('the access log cannot be written'));
    assert.equal(warnings.length, 1, stderr());
    assert.deepEqual([JSON.parse(warnings[0]!).path, JSON.parse(warnings[0]!).code], ['/dev/full', 'ENOSPC']);
  });

  it('refuses a path it cannot append to in one line, before anything starts', () => {
    const state = join(dir, 'never-made');
    const result = cli(['serve', '--state', state, ...PORTS, '--access-log', join(dir, 'no-such-folder', 'access.log')]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^strictedge: --access-log \/ edge\.access_log: cannot append to .*no-such-folder\/access\.log \(ENOENT\)\n$/);
    assert.equal(existsSync(state), false);
    const edge = cli(['edge', '--ca-url', 'http://127.0.0.1:9/client/v4', '--edge-token', `edge-v1-${'a'.repeat(24)}-${'b'.repeat(64)}`, '--state', state, '--access-log', dir]);
    assert.equal(edge.status, 2);
    assert.match(edge.stderr, /^strictedge: --access-log: cannot append to .* \(EISDIR\)\n$/);
    assert.equal(existsSync(state), false);
  });

  for (const workers of [false, true]) {
    it(`reopens the file on SIGUSR2 once logrotate moved it away${workers ? ', in every edge worker' : ''}`, { timeout: 60_000 }, async () => {
      const logPath = join(dir, `rotated-${workers}.log`);
      served = await startServe(['--demo', '--state', join(dir, `state-rotated-${workers}`), ...PORTS, '--access-log', logPath, ...(workers ? ['--workers', '2'] : [])]);
      const ready = served.ready;
      const pids = writers(served.process.pid!, workers);
      assert.equal(pids.length, workers ? 2 : 1);
      const before = await Promise.all(Array.from({ length: 20 }, (_, i) => get(ready, 'http', 'flexible.test', `/before/${i}`)));
      renameSync(logPath, `${logPath}.1`);
      process.kill(served.process.pid!, 'SIGUSR2'); // as logrotate's postrotate does: the main process alone
      await until(() => pids.every((pid) => openFiles(pid).includes(logPath)), 'every writer to open the new file');
      // The old file's lines were written and its descriptor closed.
      await until(() => pids.every((pid) => !openFiles(pid).includes(`${logPath}.1`)), 'every writer to close the old file');
      const afterwards = await Promise.all(Array.from({ length: 20 }, (_, i) => get(ready, 'http', 'flexible.test', `/after/${i}`)));
      const { process: child, stderr } = served;
      await served.stop();
      served = undefined;
      assert.equal(child.exitCode, 0, stderr());
      assert.deepEqual(new Set(readLines(`${logPath}.1`).map((line) => line.request_id)), new Set(before.map((answer) => answer.requestId)));
      assert.deepEqual(new Set(readLines(logPath).map((line) => line.request_id)), new Set(afterwards.map((answer) => answer.requestId)));
      assert.equal(statSync(logPath).mode & 0o777, 0o640);
    });
  }

  it('keeps writing to the file it has when the path cannot be opened anew, and says why', { timeout: 60_000 }, async () => {
    mkdirSync(join(dir, 'logs'));
    const logPath = join(dir, 'logs', 'access.log');
    served = await startServe(['--demo', '--state', join(dir, 'state-unreopenable'), ...PORTS, '--access-log', logPath]);
    renameSync(join(dir, 'logs'), join(dir, 'logs-moved')); // the path's folder is gone
    process.kill(served.process.pid!, 'SIGUSR2');
    await until(() => served!.stderr().includes('the access log cannot be reopened'), 'the warning');
    const answer = await get(served.ready, 'http', 'flexible.test', '/kept');
    const { stderr } = served;
    await served.stop();
    served = undefined;
    const warning = JSON.parse(stderr().split('\n').find((line) => line.includes('cannot be reopened'))!) as Line;
    assert.deepEqual([warning.path, warning.code], [logPath, 'ENOENT']);
    assert.deepEqual(readLines(join(dir, 'logs-moved', 'access.log')).map((line) => line.request_id), [answer.requestId]);
  });
});
