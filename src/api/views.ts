// How records look on the wire (Cloudflare v4 field names and formats).
import type { CertificateRecord } from '../store/certificates.js';
import type { Zone } from '../store/zones.js';

/** Cloudflare writes times as "2036-11-23 10:07:00 +0000 UTC". */
export function cloudflareTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

export function certificateView(record: CertificateRecord) {
  return {
    id: record.serial,
    certificate: record.pem,
    hostnames: record.hostnames,
    expires_on: cloudflareTime(record.expiresOn),
    request_type: record.requestType,
    requested_validity: record.requestedValidity,
    csr: record.csr,
    revoked_at: record.revokedAt,
  };
}

export function zoneView(zone: Zone) {
  return {
    id: zone.id,
    name: zone.name,
    status: 'active',
    paused: false,
    type: 'full',
    account: { id: zone.accountId },
    origin_http: zone.originHttp,
    origin_https: zone.originHttps,
    created_on: zone.createdAt,
    modified_on: zone.modifiedOn,
  };
}

export function sslSettingView(zone: Zone) {
  return { id: 'ssl', value: zone.sslMode, editable: true, modified_on: zone.modifiedOn };
}
