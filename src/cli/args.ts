// Flag parsing on node:util parseArgs. Both cfca's "-flag" and "--flag" spellings work.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MAX_REQUEST_BODY_MIB } from '../edge/body-limit.js';
import { MAX_REQUEST_HEAD_KIB } from '../edge/request-head.js';
import { MAX_ORIGIN_CONNECTIONS } from '../config/schema.js';
import { isTicketKeyRotation, TICKET_KEY_ROTATION_MAX_S, TICKET_KEY_ROTATION_RANGE } from '../edge/ticket-keys.js';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** "-hostnames" becomes "--hostnames"; short single-letter flags and values are left alone. */
export function normalizeFlags(argv: readonly string[]): string[] {
  return argv.map((arg) => (/^-[a-z][a-z-]+(=.*)?$/i.test(arg) ? `-${arg}` : arg));
}

export function parseFlags<O extends Options>(argv: readonly string[], options: O, maxPositionals = 0) {
  try {
    // allowNegative: a boolean flag on by default is turned off as --no-FLAG (serve --no-http2).
    const parsed = parseArgs({ args: normalizeFlags(argv), options, allowPositionals: true, strict: true, allowNegative: true });
    if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument: ${parsed.positionals[maxPositionals]}`);
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(flagErrorMessage(error as NodeJS.ErrnoException));
  }
}

/**
 * parseArgs' errors in the CLI's words: its own say "argument is ambiguous" for a flag whose
 * value is missing before the next flag, and add advice about positionals to an unknown one.
 */
function flagErrorMessage({ code, message }: NodeJS.ErrnoException): string {
  const flag = /'(--?[^'\s<]+)/.exec(message)?.[1];
  if (flag && code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag} (strictedge help lists each command's flags)`;
  if (flag && code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing|ambiguous/.test(message)) return `${flag} needs a value (one that starts with "-" is written ${flag}=VALUE)`;
  return message.split('\n')[0]!;
}

export function requiredPositional(positionals: readonly string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

export function portFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--${name} must be a port number from 0 to 65535`);
  return port;
}

export const stateOption = { state: { type: 'string', default: '.' } } as const;

/** A positive number of seconds (fractions allowed, at most 6000; 0 too with zeroAllowed); undefined when not given. */
export function secondsFlag(value: string | undefined, name: string, { zeroAllowed = false, max = 6000 } = {}): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(parsed > 0 || (zeroAllowed && parsed === 0 && value.trim() !== '')) || parsed > max) {
    throw new UsageError(`--${name} must be a number of seconds up to ${max}, e.g. 15 or 0.5${zeroAllowed ? ', or 0' : ''}`);
  }
  return parsed;
}

/** --ticket-key-rotation: seconds between new session ticket keys, 0 for never (edge/ticket-keys.ts). */
export function ticketKeyRotationFlag(value: string | undefined): number | undefined {
  const seconds = secondsFlag(value, 'ticket-key-rotation', { zeroAllowed: true, max: TICKET_KEY_ROTATION_MAX_S });
  if (seconds !== undefined && !isTicketKeyRotation(seconds)) throw new UsageError(`--ticket-key-rotation ${TICKET_KEY_ROTATION_RANGE}`);
  return seconds;
}

/** --max-request-body-mib: a whole number of MiB, 0 for no limit (edge/body-limit.ts); undefined when not given. */
export function requestBodyLimitFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const mib = Number(value);
  if (!/^\d+$/.test(value) || mib > MAX_REQUEST_BODY_MIB) throw new UsageError(`--max-request-body-mib must be a whole number of MiB up to ${MAX_REQUEST_BODY_MIB}, or 0 for no limit`);
  return mib;
}

/** --max-request-head-kib: a whole number of KiB from 1 (edge/request-head.ts); undefined when not given. */
export function requestHeadLimitFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const kib = Number(value);
  if (!/^\d+$/.test(value) || kib < 1 || kib > MAX_REQUEST_HEAD_KIB) throw new UsageError(`--max-request-head-kib must be a whole number of KiB from 1 to ${MAX_REQUEST_HEAD_KIB}`);
  return kib;
}

/** --max-origin-connections: a whole number, 0 for no limit (edge/upstream.ts); undefined when not given. */
export function originConnectionLimitFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const count = Number(value);
  if (!/^\d+$/.test(value) || count > MAX_ORIGIN_CONNECTIONS) throw new UsageError(`--max-origin-connections must be a whole number up to ${MAX_ORIGIN_CONNECTIONS}, or 0 for no limit`);
  return count;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

export function logLevelFlag(value: string): (typeof LOG_LEVELS)[number] {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  return value as (typeof LOG_LEVELS)[number];
}
