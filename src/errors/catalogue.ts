// One catalogue of every error strictedge reports. Codes are grouped by area:
//   1000s request shape, 1100s lookups, 1200s hostname policy, 1300s CSR,
//   1400s request type and validity, 1500s zone settings, 1600s server,
//   1700s admin (state folder), 10000s authentication.
// docs/errors.md documents each code; a test keeps the two in step.

export interface ErrorDef {
  readonly code: number;
  readonly http: number;
  readonly message: string;
}

function def(code: number, http: number, message: string): ErrorDef {
  return Object.freeze({ code, http, message });
}

export const Errors = {
  // request shape
  BAD_JSON: def(1000, 400, 'Request body is not valid JSON'),
  BODY_TOO_LARGE: def(1001, 413, 'Request body is too large'),
  METHOD_NOT_ALLOWED: def(1002, 405, 'Method not allowed for this route'),
  ROUTE_NOT_FOUND: def(1003, 404, 'No such route'),
  INVALID_FIELD: def(1004, 400, 'A field has an invalid value'),
  // lookups: another account's objects answer exactly like missing ones
  CERT_NOT_FOUND: def(1100, 404, 'Certificate not found'),
  ZONE_NOT_FOUND: def(1101, 404, 'Zone not found'),
  CERT_ALREADY_REVOKED: def(1102, 409, 'Certificate is already revoked'),
  // hostname policy
  HOSTNAMES_MISSING: def(1200, 400, 'At least one hostname is required'),
  TOO_MANY_HOSTNAMES: def(1201, 400, 'Too many hostnames'),
  HOSTNAME_EMPTY_LABEL: def(1202, 400, 'Hostname has an empty label'),
  HOSTNAME_LABEL_TOO_LONG: def(1203, 400, 'Hostname has a label longer than 63 characters'),
  HOSTNAME_TOO_LONG: def(1204, 400, 'Hostname is longer than 253 characters'),
  HOSTNAME_INVALID_CHARACTERS: def(1205, 400, 'Hostname has invalid characters'),
  WILDCARD_NOT_LEFTMOST: def(1206, 400, 'A wildcard may only be the leftmost label'),
  WILDCARD_MULTIPLE: def(1207, 400, 'Only one wildcard label is allowed'),
  WILDCARD_OVER_TLD: def(1208, 400, 'A wildcard directly over a top-level domain is not allowed'),
  WILDCARD_ALONE: def(1209, 400, 'A bare "*" is not a hostname'),
  HOSTNAME_IP_ADDRESS: def(1210, 400, 'IP addresses are not allowed'),
  HOSTNAME_DUPLICATE: def(1211, 400, 'Hostname appears more than once'),
  HOSTNAME_NOT_IN_ACCOUNT: def(1212, 400, 'Hostname is not in a zone of this account'),
  WILDCARD_PARTIAL: def(1213, 400, 'A wildcard must be a whole label ("*."), not part of one'),
  HOSTNAME_NOT_STRING: def(1214, 400, 'Each hostname must be a string'),
  // CSR
  CSR_MISSING: def(1300, 400, 'A CSR is required'),
  CSR_UNPARSABLE: def(1301, 400, 'CSR could not be parsed'),
  CSR_BAD_SIGNATURE: def(1302, 400, 'CSR signature does not verify'),
  CSR_KEY_TYPE_MISMATCH: def(1303, 400, 'CSR key does not fit the request type'),
  CSR_KEY_TOO_WEAK: def(1304, 400, 'CSR key is too weak, too large or unsound (RSA 2048-4096 bits, an odd public exponent of 3 or more)'),
  CSR_UNSUPPORTED_ALGORITHM: def(1305, 400, 'CSR uses an unsupported key or signature algorithm'),
  // request type and validity
  REQUEST_TYPE_INVALID: def(1400, 400, 'request_type must be origin-rsa or origin-ecc'),
  VALIDITY_INVALID: def(1401, 400, 'requested_validity must be one of 7, 30, 90, 365, 730, 1095, 5475'),
  // zone settings
  SSL_MODE_INVALID: def(1500, 400, 'SSL mode must be one of off, flexible, full, strict, origin_pull'),
  SETTING_NOT_SUPPORTED: def(1501, 404, 'Only the "ssl" zone setting is supported'),
  // server
  INTERNAL: def(1600, 500, 'Internal error'),
  STORE_FAILURE: def(1601, 500, 'The certificate store failed; nothing was written'),
  // admin commands on the state folder
  ACCOUNT_EXISTS: def(1700, 409, 'An account with that name exists'),
  ACCOUNT_NOT_FOUND: def(1701, 404, 'Account not found'),
  ZONE_EXISTS: def(1702, 409, 'That zone is already registered'),
  ZONE_NAME_INVALID: def(1703, 400, 'Zone name must be a registered domain such as example.test'),
  ORIGIN_INVALID: def(1704, 400, 'Origin must be HOST:PORT'),
  API_KEY_NOT_FOUND: def(1705, 404, 'API key not found'),
  ACCOUNT_NAME_INVALID: def(1706, 400, 'Account name must be 1-64 characters of a-z, 0-9, dot, dash or underscore'),
  EDGE_EXISTS: def(1707, 409, 'An edge with that name exists'),
  ZONE_OVERLAPS_OTHER_ACCOUNT: def(1708, 409, 'The zone lies in, or holds, a zone of another account'),
  EDGE_NOT_FOUND: def(1709, 404, 'No edge of that name with a token in force'),
  ZONE_HAS_CERTIFICATES: def(1710, 409, 'Certificates for the zone are still in force; revoke them first'),
  // separate edges' event feed
  EDGE_FEED_DIVERGED: def(1800, 409, 'The event feed does not continue from the edge\'s last event (the CA was restored from a backup, or replaced); follow it again from seq 0'),
  // authentication
  AUTH_MISSING: def(10000, 401, 'Authentication error: no API key given (send it as X-Auth-User-Service-Key or Authorization: Bearer; X-Auth-Key is not used)'),
  AUTH_INVALID: def(10001, 401, 'Authentication error: the API key is not valid'),
  EDGE_TOKEN_REQUIRED: def(10002, 403, 'This route needs an edge token (strictedge edges create NAME); account keys cannot read it'),
  EDGE_TOKEN_INVALID: def(10003, 401, 'Authentication error: the edge token is not valid'),
} as const satisfies Record<string, ErrorDef>;

export type ErrorKey = keyof typeof Errors;

/** An expected failure with a catalogued code; `detail` names the offending value. */
export class StrictedgeError extends Error {
  readonly def: ErrorDef;
  readonly detail: string | undefined;

  constructor(errorDef: ErrorDef, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${errorDef.message}: ${detail}` : errorDef.message, options);
    this.name = 'StrictedgeError';
    this.def = errorDef;
    this.detail = detail;
  }

  get code(): number {
    return this.def.code;
  }
}

export function fail(errorDef: ErrorDef, detail?: string): never {
  throw new StrictedgeError(errorDef, detail);
}
