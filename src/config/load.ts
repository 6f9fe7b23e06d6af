// Reads the optional YAML config and checks it against the schema.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {}

export function loadConfig(path: string | undefined): Config {
  if (path === undefined) return ConfigSchema.parse({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new ConfigError(`config ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`config ${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}
