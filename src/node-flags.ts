// V8 flags for the long-running commands (serve, edge). They have to be given when Node starts,
// so they are written out where it starts: the CLI's shebang, `npm start`, the edge workers'
// fork, and the load test (a unit test keeps those in step with this list).
//
// --max-semi-space-size=8: V8 grows the young generation to 2 × 16 MB under a proxy's
// allocation rate and keeps it. Capped at 2 × 8 MB, the edge used 20–45 MB less RSS in the load
// test, with no CPU per request difference the machine could show (README, Load test). The price:
// twice the scavenges promote more short-lived objects, and with V8's own old-generation growth
// factor (up to 4 × what survived the last full GC) that garbage piled up: RSS 157–186 MB for the
// first 45–70 s of a soak, 148–176 MB in runs that mixed keep-alive and handshake load.
//
// --heap-growing-percent=50: that factor fixed at 1.5. With it the edge peaked at 132 MB of RSS
// where it otherwise peaked at 161 MB, at the same CPU per request (--ab, 7 rounds: 0.97 ×
// keep-alive, 0.97 × new handshakes; a factor of 1.25 cost 15 % more CPU on handshakes), and a
// soak from a cold start stays at 120–130 MB throughout.
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=50'];

/** `execArgv` plus whichever server flags it lacks (a flag given explicitly wins). */
export function withServerNodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map((arg) => arg.split('=')[0]));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !given.has(flag.split('=')[0]))];
}
