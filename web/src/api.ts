// The dashboard's only way out of the page: same-origin calls to the v4 API with the
// signed-in key in a header (never in a URL, so it stays out of logs and history).
export interface ApiErrorItem {
  readonly code: number;
  readonly message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly ApiErrorItem[],
  ) {
    super(errors.map((e) => `${e.message} (${e.code})`).join('; ') || `HTTP ${status}`);
  }
}

export interface Page<T> {
  readonly items: T[];
  readonly page: number;
  readonly totalPages: number;
  readonly totalCount: number;
}

export interface Zone {
  readonly id: string;
  readonly name: string;
}

export interface Certificate {
  readonly id: string;
  readonly certificate: string;
  readonly hostnames: string[];
  readonly expires_on: string;
  readonly request_type: 'origin-ecc' | 'origin-rsa';
  readonly requested_validity: number;
  readonly revoked_at: string | null;
}

export type SslMode = 'off' | 'flexible' | 'full' | 'strict' | 'origin_pull';

export const API_BASE = '/client/v4';

export interface Api {
  verify(): Promise<void>;
  zones(): Promise<Zone[]>;
  sslMode(zoneId: string): Promise<SslMode>;
  setSslMode(zoneId: string, mode: SslMode): Promise<SslMode>;
  certificates(page: number, perPage: number): Promise<Page<Certificate>>;
  createCertificate(request: { csr: string; hostnames: string[]; request_type: string; requested_validity: number }): Promise<Certificate>;
  revokeCertificate(id: string): Promise<void>;
}

interface Envelope<T> {
  readonly success: boolean;
  readonly errors: ApiErrorItem[];
  readonly result: T;
  readonly result_info?: { page: number; total_pages: number; total_count: number };
}

export function createApi(apiKey: string, fetchFn: typeof fetch = fetch.bind(globalThis)): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
    const headers: Record<string, string> = { 'x-auth-user-service-key': apiKey, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetchFn(`${API_BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
    let envelope: Envelope<T>;
    try {
      envelope = (await response.json()) as Envelope<T>;
    } catch {
      throw new ApiError(response.status, [{ code: 0, message: `The CA answered HTTP ${response.status} without a JSON body` }]);
    }
    if (!response.ok || !envelope.success) throw new ApiError(response.status, envelope.errors ?? []);
    return envelope;
  }

  return {
    async verify() {
      await call('GET', '/zones?per_page=1');
    },
    async zones() {
      const all: Zone[] = [];
      for (let page = 1; ; page++) {
        const envelope = await call<Zone[]>('GET', `/zones?page=${page}&per_page=50`);
        all.push(...envelope.result);
        if (!envelope.result_info || page >= envelope.result_info.total_pages) return all;
      }
    },
    async sslMode(zoneId) {
      return (await call<{ value: SslMode }>('GET', `/zones/${encodeURIComponent(zoneId)}/settings/ssl`)).result.value;
    },
    async setSslMode(zoneId, mode) {
      return (await call<{ value: SslMode }>('PATCH', `/zones/${encodeURIComponent(zoneId)}/settings/ssl`, { value: mode })).result.value;
    },
    async certificates(page, perPage) {
      const envelope = await call<Certificate[]>('GET', `/certificates?page=${page}&per_page=${perPage}`);
      const info = envelope.result_info ?? { page, total_pages: 1, total_count: envelope.result.length };
      return { items: envelope.result, page: info.page, totalPages: info.total_pages, totalCount: info.total_count };
    },
    async createCertificate(request) {
      return (await call<Certificate>('POST', '/certificates', request)).result;
    },
    async revokeCertificate(id) {
      await call('DELETE', `/certificates/${encodeURIComponent(id)}`);
    },
  };
}
