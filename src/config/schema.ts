// The YAML config file's shape. Every field is optional; flags override the file.
import { z } from 'zod';
import { MAX_HOSTNAMES_CEILING, DEFAULT_MAX_HOSTNAMES } from '../ca/policy.js';
import { DEFAULT_BODY_LIMIT } from '../api/server.js';

const port = z.number().int().min(0).max(65535);

export const ConfigSchema = z
  .object({
    listen: z.string().min(1).default('127.0.0.1'),
    api_port: port.default(8787),
    max_hostnames: z.number().int().min(1).max(MAX_HOSTNAMES_CEILING).default(DEFAULT_MAX_HOSTNAMES),
    max_body_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULT_BODY_LIMIT),
    log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
