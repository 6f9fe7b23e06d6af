// V8 flags for the long-running commands (serve, edge). They have to be given when Node starts,
// so they are written out where it starts: the CLI's shebang, `npm start`, the edge workers'
// fork, and the load test (a unit test keeps those in step with this list).
//
// --max-semi-space-size=8: V8 grows the young generation to 2 × 16 MB under a proxy's
// allocation rate and keeps it. Capped at 2 × 8 MB, the edge used 20–45 MB less RSS in the load
// test, with no CPU per request difference the machine could show (README, Load test). The price:
// twice the scavenges promote more short-lived objects, so under full load from a cold start the
// old generation fills with garbage until V8's first full GC (RSS 157–186 MB for 45–70 s in a
// soak, against 137 MB without the flag); after it, 123–135 MB and flat.
//
// --heap-growing-percent=50: after each full GC V8 lets the old generation grow to 1.5 × what
// survived, instead of a factor it picks from its GC speed (up to 4 ×), which here left the old
// generation holding 20–25 MB of promoted garbage between full GCs. With it the edge peaked at
// 132 MB of RSS where it otherwise peaked at 161 MB, at the same CPU per request (--ab, 7 rounds:
// 0.97 × keep-alive, 0.97 × new handshakes); a factor of 1.25 cost 15 % more CPU on handshakes.
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=50'];

/** `execArgv` plus whichever server flags it lacks (a flag given explicitly wins). */
export function withServerNodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map((arg) => arg.split('=')[0]));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !given.has(flag.split('=')[0]))];
}
