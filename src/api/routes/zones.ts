// /zones and the one zone setting strictedge has: ssl.
import { Errors, StrictedgeError } from '../../errors/catalogue.js';
import type { ZoneService } from '../../ca/zones.js';
import type { Route } from '../router.js';
import { readPaging, resultInfo } from '../paging.js';
import { sslSettingView, zoneView } from '../views.js';

export function zoneRoutes(zones: ZoneService): Route[] {
  return [
    {
      template: '/zones',
      methods: {
        GET({ account, query }) {
          const { page, perPage } = readPaging(query);
          const name = query.get('name');
          const all = zones.list(account).filter((zone) => !name || zone.name === name);
          const slice = all.slice((page - 1) * perPage, page * perPage);
          return { result: slice.map(zoneView), resultInfo: resultInfo(page, perPage, slice.length, all.length) };
        },
      },
    },
    {
      template: '/zones/:zone_id',
      methods: { GET: ({ account, params }) => ({ result: zoneView(zones.get(account, params.zone_id!)) }) },
    },
    {
      template: '/zones/:zone_id/settings/:setting',
      methods: {
        GET({ account, params }) {
          const zone = zones.get(account, params.zone_id!);
          if (params.setting !== 'ssl') throw new StrictedgeError(Errors.SETTING_NOT_SUPPORTED, params.setting);
          return { result: sslSettingView(zone) };
        },
        PATCH({ account, params, body }) {
          zones.get(account, params.zone_id!);
          if (params.setting !== 'ssl') throw new StrictedgeError(Errors.SETTING_NOT_SUPPORTED, params.setting);
          const value = (body as Record<string, unknown> | null)?.value;
          return { result: sslSettingView(zones.setSslMode(account, params.zone_id!, value)) };
        },
      },
    },
  ];
}
