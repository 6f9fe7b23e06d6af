// `--client-body-timeout` and `--client-send-timeout` through the real `strictedge serve`: the
// edge's body and send timeouts (60 s by default, as nginx's client_body_timeout and
// send_timeout) set from the command line reach the edge, and a bad value is refused in one line
// by `serve` and `edge` before anything starts. What the timeouts do is tested in
// edge-client-timeouts.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { cli, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const PORTS = ['--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--log-level', 'warn'];

describe('serve --client-body-timeout, --client-send-timeout', () => {
  const dir = tempDir('strictedge-client-timeout-flags-');
  let served: Served | undefined;
  after(() => served?.stop());

  it('sets the body and send timeouts of the edge', { timeout: 30_000 }, async () => {
    served = await startServe(['--demo', '--state', join(dir, 'state'), ...PORTS, '--client-body-timeout', '0.5', '--client-send-timeout', '0.5']);
    const httpPort = Number(new URL(served.ready.http!).port);
    const metrics = async () => (await fetch(served!.ready.metrics!)).text();

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
    for (const [args, flag] of [
      [[...serve, '--client-body-timeout', 'soon'], 'client-body-timeout'],
      [[...serve, '--client-send-timeout=-1'], 'client-send-timeout'],
      [[...edge, '--client-body-timeout', '6001'], 'client-body-timeout'],
      [[...edge, '--client-send-timeout', ''], 'client-send-timeout'],
    ] as const) {
      const result = cli(args);
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr.trim(), `strictedge: --${flag} must be a number of seconds up to 6000, e.g. 15 or 0.5, or 0`);
    }
  });
});
