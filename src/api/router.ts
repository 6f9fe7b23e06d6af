// A small route table: path templates with :params, and a handler per method.
import type { Account } from '../store/accounts.js';
import type { ResultInfo } from './envelope.js';

export interface RouteContext {
  readonly account: Account;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface HandlerResult {
  readonly result: unknown;
  readonly resultInfo?: ResultInfo;
  readonly status?: number;
}

export type Handler = (ctx: RouteContext) => HandlerResult | Promise<HandlerResult>;
export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface Route {
  /** e.g. "/zones/:zone_id/settings/ssl" (relative to the API base path) */
  readonly template: string;
  readonly methods: Partial<Record<Method, Handler>>;
}

interface CompiledRoute extends Route {
  readonly segments: readonly string[];
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly handler: Handler; readonly params: Record<string, string> }
  | { readonly kind: 'method_not_allowed'; readonly route: Route; readonly allow: string }
  | { readonly kind: 'not_found' };

export function createRouter(routes: readonly Route[]) {
  const compiled: CompiledRoute[] = routes.map((route) => ({ ...route, segments: route.template.split('/').filter(Boolean) }));
  return function match(method: string, path: string): RouteMatch {
    const parts = path.split('/').filter(Boolean);
    for (const route of compiled) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const segment = route.segments[i]!;
        if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(parts[i]!);
        else ok = segment === parts[i];
      }
      if (!ok) continue;
      const handler = route.methods[method as Method];
      if (!handler) return { kind: 'method_not_allowed', route, allow: Object.keys(route.methods).join(', ') };
      return { kind: 'found', route, handler, params };
    }
    return { kind: 'not_found' };
  };
}
