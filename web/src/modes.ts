// What each SSL mode means for a visitor's request, in the dashboard's words.
import type { SslMode } from './api.js';

export const MODES: readonly { readonly value: SslMode; readonly label: string; readonly explanation: string }[] = [
  { value: 'off', label: 'Off', explanation: 'No HTTPS: visitors are redirected to plain HTTP, and the edge talks HTTP to the origin.' },
  { value: 'flexible', label: 'Flexible', explanation: 'Visitors use HTTPS to the edge; the edge talks plain HTTP to the origin. Anyone between the edge and the origin can read and change the traffic.' },
  { value: 'full', label: 'Full', explanation: 'The edge reaches the origin the way the visitor came: HTTPS over HTTPS, accepting any certificate, even self-signed or expired (encrypted, not authenticated); plain HTTP over HTTP.' },
  { value: 'strict', label: 'Full (strict)', explanation: "As Full, but over HTTPS the origin's certificate must chain to the Origin CA (or a public root), match the hostname, be in date and not be revoked; otherwise visitors see 526." },
  { value: 'origin_pull', label: 'Strict (SSL-only origin pull)', explanation: 'As Full (strict), and the edge uses HTTPS to the origin even for visitors on plain HTTP.' },
];

export function modeLabel(mode: SslMode): string {
  return MODES.find((m) => m.value === mode)?.label ?? mode;
}

/** Leaving strict (or SSL-only origin pull) removes the origin's authentication: the page asks first. */
export function weakensVerification(from: SslMode, to: SslMode): boolean {
  const verified = (mode: SslMode) => mode === 'strict' || mode === 'origin_pull';
  return verified(from) && !verified(to);
}
