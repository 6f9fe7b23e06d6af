// Pure: what the edge does with a request for a zone, by the zone's SSL mode and the scheme
// the client used (Cloudflare's definitions of Off / Flexible / Full / Strict / Origin Pull).
import type { EdgeZone } from './zone-table.js';
import type { PolicyKind } from './upstream.js';

export type Scheme = 'http' | 'https';

export type RouteDecision =
  | { readonly kind: 'redirect_to_http' }
  | { readonly kind: 'proxy'; readonly policy: PolicyKind; readonly origin: string }
  | { readonly kind: 'no_origin' };

function proxy(policy: PolicyKind, origin: string | null): RouteDecision {
  return origin ? { kind: 'proxy', policy, origin } : { kind: 'no_origin' };
}

export function decideRoute(zone: EdgeZone, scheme: Scheme): RouteDecision {
  switch (zone.mode) {
    case 'off':
      return scheme === 'https' ? { kind: 'redirect_to_http' } : proxy('plain', zone.originHttp);
    case 'flexible':
      return proxy('plain', zone.originHttp);
    case 'full':
      return scheme === 'https' ? proxy('any', zone.originHttps) : proxy('plain', zone.originHttp);
    case 'strict':
      return scheme === 'https' ? proxy('strict', zone.originHttps) : proxy('plain', zone.originHttp);
    case 'origin_pull':
      return proxy('strict', zone.originHttps);
  }
}
