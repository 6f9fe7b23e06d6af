// The web dashboard's static files (built into dist/web by scripts/build-web.mjs), served at /
// on the API port with a strict CSP: the page talks to this origin only.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

export function isDashboardPath(pathname: string): boolean {
  return Object.hasOwn(FILES, pathname);
}

export interface Dashboard {
  serve(method: string, pathname: string, res: ServerResponse): void;
}

/** Reads the built files once; a missing build answers 503 with the command that makes it. */
export function createDashboard(dir: string = WEB_DIR): Dashboard {
  const cache = new Map<string, Buffer | null>();
  const load = (file: string): Buffer | null => {
    if (!cache.has(file)) {
      try {
        cache.set(file, readFileSync(`${dir}${file}`));
      } catch {
        cache.set(file, null);
      }
    }
    return cache.get(file)!;
  };
  return {
    serve(method, pathname, res) {
      const entry = FILES[pathname]!;
      if (method !== 'GET' && method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        res.end('Method not allowed\n');
        return;
      }
      const body = load(entry.file);
      if (!body) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('The dashboard is not built: run npm run build\n');
        return;
      }
      res.writeHead(200, { 'content-type': entry.type, 'content-length': body.length, ...SECURITY_HEADERS });
      res.end(method === 'HEAD' ? undefined : body);
    },
  };
}
