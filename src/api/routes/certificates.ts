// /certificates: issue, list, get, revoke.
import type { Ca } from '../../ca/service.js';
import { readPaging, resultInfo } from '../paging.js';
import type { Route } from '../router.js';
import { certificateView } from '../views.js';

export function certificateRoutes(ca: Ca): Route[] {
  return [
    {
      template: '/certificates',
      methods: {
        async POST({ account, body }) {
          const input = (body ?? {}) as Record<string, unknown>;
          const record = await ca.issue(account, {
            csr: input.csr,
            hostnames: input.hostnames,
            requestType: input.request_type,
            requestedValidity: input.requested_validity,
          });
          return { result: certificateView(record) };
        },
        GET({ account, query }) {
          const { page, perPage } = readPaging(query);
          const zoneId = query.get('zone_id') || undefined;
          const { records, total } = ca.list(account, zoneId, page, perPage);
          return { result: records.map(certificateView), resultInfo: resultInfo(page, perPage, records.length, total) };
        },
      },
    },
    {
      template: '/certificates/:id',
      methods: {
        GET: ({ account, params }) => ({ result: certificateView(ca.get(account, params.id!)) }),
        DELETE({ account, params }) {
          const record = ca.revoke(account, params.id!);
          return { result: { id: record.serial, revoked_at: record.revokedAt } };
        },
      },
    },
  ];
}
