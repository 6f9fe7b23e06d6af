// Ports for servers the tests and the load test start themselves (nginx, origins, anchors),
// which learn their port from a command line or config. A port that bind(0) handed out and was
// released again can be taken as the source port of any outgoing connection on the machine
// before the server binds it, and test files run two at a time beside load. So these come from
// below the kernel's ephemeral range, which it never hands out by itself.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Above the ports browsers refuse to open (Chromium's list ends at 10080). */
const LOWEST = 11_000;

/** The first port of the kernel's ephemeral range (ip_local_port_range). */
export function ephemeralRangeStart(rangeFile = '/proc/sys/net/ipv4/ip_local_port_range'): number {
  try {
    const start = Number(readFileSync(rangeFile, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 0 ? start : 32_768;
  } catch {
    return 32_768; // Linux's default
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/** A free loopback port below the ephemeral range, not handed out before by this process. */
export async function reservePort(random: () => number = Math.random): Promise<number> {
  const high = ephemeralRangeStart() - 1;
  if (high - LOWEST < 1000) throw new Error(`the ephemeral port range starts at ${high + 1}: no room below it for test servers`);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(random() * (high - LOWEST + 1));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found between ${LOWEST} and ${high}`);
}
