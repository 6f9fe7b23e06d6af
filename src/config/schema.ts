// The YAML config file's shape. Every field is optional; flags override the file.
import { z } from 'zod';
import { MAX_HOSTNAMES_CEILING, DEFAULT_MAX_HOSTNAMES } from '../ca/policy.js';
import { DEFAULT_BODY_LIMIT } from '../api/server.js';
import { DEFAULT_MAX_REQUEST_BODY_MIB, MAX_REQUEST_BODY_MIB } from '../edge/body-limit.js';
import { DEFAULT_MAX_REQUEST_HEAD_KIB, MAX_REQUEST_HEAD_KIB } from '../edge/request-head.js';
import { isTicketKeyRotation, TICKET_KEY_ROTATION_RANGE } from '../edge/ticket-keys.js';

/** The largest cap on connections to one origin (--max-origin-connections, edge.max_origin_connections): past it, a cap means nothing. */
export const MAX_ORIGIN_CONNECTIONS = 1_000_000;

const port = z.number().int().min(0).max(65535);

export const ConfigSchema = z
  .object({
    listen: z.string().min(1).default('127.0.0.1'),
    api_port: port.default(8787),
    /** PEM certificate and key to serve the API (and dashboard) over HTTPS; both or neither. */
    api_tls_cert: z.string().min(1).optional(),
    api_tls_key: z.string().min(1).optional(),
    max_hostnames: z.number().int().min(1).max(MAX_HOSTNAMES_CEILING).default(DEFAULT_MAX_HOSTNAMES),
    max_body_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULT_BODY_LIMIT),
    log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** On SIGTERM or Ctrl-C, how long answers in flight may take before their connections are cut. */
    shutdown_grace_s: z.number().min(0).max(3600).default(10),
    edge: z
      .object({
        http_port: port.default(8080),
        https_port: port.default(8443),
        metrics_port: port.default(9464),
        connect_timeout_s: z.number().positive().max(600).default(15),
        origin_timeout_s: z.number().positive().max(6000).default(100),
        /** Roots trusted in strict mode besides the Origin CA's: Node's bundle, none, or a PEM file. */
        public_roots: z.string().min(1).default('system'),
        /** Resume TLS sessions to strict origins; every resumption is re-checked against the index. */
        origin_session_resumption: z.boolean().default(false),
        /** Edge listener processes (node:cluster); 1 runs the edge in the CA's process. */
        workers: z.number().int().min(1).max(64).default(1),
        /** Offer HTTP/2 to clients (ALPN h2); false leaves them on HTTP/1.1. */
        http2: z.boolean().default(true),
        /** New keys for clients' session tickets this often (hourly, as Cloudflare); 0 keeps one set for the process's life. */
        ticket_key_rotation_s: z.number().refine(isTicketKeyRotation, TICKET_KEY_ROTATION_RANGE).default(3600),
        /** The largest request body passed to an origin, in MiB (100, as Cloudflare's Free and Pro plans); 0 for no limit. */
        max_request_body_mib: z.number().int().min(0).max(MAX_REQUEST_BODY_MIB).default(DEFAULT_MAX_REQUEST_BODY_MIB),
        /** The largest request head passed to an origin, in KiB (nginx's large_client_header_buffers); over it, 431. */
        max_request_head_kib: z.number().int().min(1).max(MAX_REQUEST_HEAD_KIB).default(DEFAULT_MAX_REQUEST_HEAD_KIB),
        /** Connections to one origin at most, as nginx's max_conns; 0 (the default) for as many as requests in flight. */
        max_origin_connections: z.number().int().min(0).max(MAX_ORIGIN_CONNECTIONS).default(0),
        /** How long a request's head may take to arrive whole before the client gets 408 (nginx's client_header_timeout). */
        client_header_timeout_s: z.number().positive().max(6000).default(60),
        /** How long a request body may stop coming before the client gets 408 (nginx's client_body_timeout); 0 for ever. */
        client_body_timeout_s: z.number().min(0).max(6000).default(60),
        /** How long a client may take none of its answer before it is cut off (nginx's send_timeout); 0 for ever. */
        client_send_timeout_s: z.number().min(0).max(6000).default(60),
        /** A file to append one JSON line per answered request to (edge/access-log.ts); none by default. */
        access_log: z.string().min(1).optional(),
      })
      .strict()
      .default({ http_port: 8080, https_port: 8443, metrics_port: 9464, connect_timeout_s: 15, origin_timeout_s: 100, public_roots: 'system', origin_session_resumption: false, workers: 1, http2: true, ticket_key_rotation_s: 3600, max_request_body_mib: DEFAULT_MAX_REQUEST_BODY_MIB, max_request_head_kib: DEFAULT_MAX_REQUEST_HEAD_KIB, max_origin_connections: 0, client_header_timeout_s: 60, client_body_timeout_s: 60, client_send_timeout_s: 60 }),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
