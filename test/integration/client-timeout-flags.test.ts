// `--client-header-timeout`, `--client-body-timeout` and `--client-send-timeout` through the real
// `strictedge serve`: the edge's head, body and send timeouts (60 s by default, as nginx's
// client_header_timeout, client_body_timeout and send_timeout) set from the command line reach
// the edge, and a bad value is refused in one line by `serve` and `edge` before anything starts.
// What the body and send timeouts do is tested in edge-client-timeouts.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { cli, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const PORTS = ['--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--log-level', 'warn'];

describe('serve --client-header-timeout, --client-body-timeout, --client-send-timeout', () => {
  const dir = tempDir('strictedge-client-timeout-flags-');
  let served: Served | undefined;
  after(() => served?.stop());

  it('sets the head, body and send timeouts of the edge', { timeout: 30_000 }, async () => {
    served = await startServe(['--demo', '--state', join(dir, 'state'), ...PORTS, '--client-header-timeout', '1', '--client-body-timeout', '0.5', '--client-send-timeout', '0.5']);
    const httpPort = Number(new URL(served.ready.http!).port);
    const metrics = async () => (await fetch(served!.ready.metrics!)).text();

    // A head that stops half-way, over HTTP and over TLS: 408 after about a second (Node checks a
    // quarter of the timeout apart), where the default would wait a minute, Node's check up to 30 s more.
    for (const tls of [false, true]) {
      const port = Number(new URL(tls ? served.ready.https! : served.ready.http!).port);
      const slow = tls ? tlsConnect({ host: '127.0.0.1', port, servername: 'flexible.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }) : connect(port, '127.0.0.1');
      let head = '';
      slow.setEncoding('latin1').on('data', (chunk: string) => (head += chunk));
      await once(slow, tls ? 'secureConnect' : 'connect');
      const startedAt = Date.now();
      slow.write('GET / HTTP/1.1\r\nHost: flexible.test\r\nX-Half: ');
      await once(slow, 'close');
      assert.match(head, /^HTTP\/1\.1 408 Request Timeout\r\n/, tls ? 'https' : 'http');
      assert.ok(Date.now() - startedAt >= 900 && Date.now() - startedAt < 10_000, `answered after ${Date.now() - startedAt} ms`);
    }

    // A body that stops: 408 after half a second, where the default would wait a minute.
    const uploader = connect(httpPort, '127.0.0.1');
    let answer = '';
    uploader.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk));
    await once(uploader, 'connect');
    const sentAt = Date.now();
    uploader.write('POST /upload HTTP/1.1\r\nHost: flexible.test\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(10));
    await once(uploader, 'close');
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(Date.now() - sentAt < 10_000, `answered after ${Date.now() - sentAt} ms`);

    // A client that takes none of a 64 MiB answer: cut off after half a second, and counted.
    const reader = connect(httpPort, '127.0.0.1');
    reader.on('error', () => undefined);
    await once(reader, 'connect');
    reader.write('GET /bytes/67108864 HTTP/1.1\r\nHost: flexible.test\r\n\r\n');
    await once(reader, 'data');
    reader.pause();
    const counted = /^strictedge_edge_client_send_timeouts_total\{zone="flexible\.test"\} 1$/m;
    for (let waited = 0; !counted.test(await metrics()); waited += 100) {
      if (waited > 10_000) assert.fail('no send timeout counted within 10 s');
      await sleep(100);
    }
    reader.destroy();
  });

  it('refuses a timeout that is not a number of seconds, in one line, before starting anything', () => {
    const serve = ['serve', '--state', join(dir, 'refused'), ...PORTS];
    const edge = ['edge', '--ca-url', 'http://127.0.0.1:9/client/v4', '--edge-token', `edge-v1-${'a'.repeat(24)}-${'b'.repeat(64)}`, '--state', join(dir, 'refused-edge')];
    // A head must have a bound (no 0); the body and send timeouts may be off.
    for (const [args, flag, orZero] of [
      [[...serve, '--client-header-timeout', '0'], 'client-header-timeout', ''],
      [[...edge, '--client-header-timeout', 'soon'], 'client-header-timeout', ''],
      [[...serve, '--client-body-timeout', 'soon'], 'client-body-timeout', ', or 0'],
      [[...serve, '--client-send-timeout=-1'], 'client-send-timeout', ', or 0'],
      [[...edge, '--client-body-timeout', '6001'], 'client-body-timeout', ', or 0'],
      [[...edge, '--client-send-timeout', ''], 'client-send-timeout', ', or 0'],
    ] as const) {
      const result = cli(args);
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr.trim(), `strictedge: --${flag} must be a number of seconds up to 6000, e.g. 15 or 0.5${orZero}`);
    }
  });
});
