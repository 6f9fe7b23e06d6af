#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=50
// strictedge command-line entry: one subcommand per module, errors as one line on stderr.
import { StrictedgeError } from '../errors/catalogue.js';
import { ConfigError } from '../config/load.js';
import { systemClock } from '../clock.js';
import { ApiError } from './api-client.js';
import { UsageError } from './args.js';
import { StateFolderBusyError } from '../store/state-lock.js';
import { BackupError } from '../store/backup.js';
import { accounts, backup, ca, edges, keys, zones } from './admin.js';
import { certs } from './certs.js';
import { convert } from './convert.js';
import { getcert } from './getcert.js';
import { serve } from './serve.js';
import { edgeCommand } from './edge.js';

const USAGE = `usage: strictedge <command> [flags]

  serve [--state DIR] [--api-port N] [--http-port N] [--https-port N] [--origin-connect-timeout S] [--origin-timeout S] [--origin-session-resumption]
        [--metrics-port N] [--listen ADDR] [--log-level LEVEL] [--config FILE] [--demo] [--workers N] [--no-http2]
        [--ticket-key-rotation S] [--max-request-body-mib N] [--max-request-head-kib N] [--max-origin-connections N]
        [--client-header-timeout S] [--client-body-timeout S] [--client-send-timeout S] [--access-log FILE] [--api-tls-cert PEM --api-tls-key PEM] (the API over HTTPS)
  edge --ca-url URL --edge-token TOKEN [--ca-cert PEM] [--public-roots system|none|PEM] [--state DIR] [--http-port N] [--https-port N] [--status-port N]
       [--origin-connect-timeout S] [--origin-timeout S] [--max-feed-staleness S] [--origin-session-resumption] [--no-http2]
       [--ticket-key-rotation S] [--max-request-body-mib N] [--max-request-head-kib N] [--max-origin-connections N]
       [--client-header-timeout S] [--client-body-timeout S] [--client-send-timeout S] [--access-log FILE] (a separate edge following a CA)
  ca init [--state DIR]
  backup DEST [--state DIR] (the database as of one moment, the roots and the edge CA; safe while serve runs)
  accounts create NAME | accounts list [--state DIR]
  keys create --account NAME | keys revoke KEY_OR_ID | keys list [--account NAME]   [--state DIR]
  zones add NAME --account A [--origin-https HOST:PORT] [--origin-http HOST:PORT] [--mode MODE] [--state DIR]
  zones set-mode NAME off|flexible|full|strict|origin_pull [--state DIR]
  zones set-origin NAME [--origin-https HOST:PORT|none] [--origin-http HOST:PORT|none] [--state DIR]
  zones remove NAME [--state DIR] (refused while certificates for it are in force)
  zones list [--account A] [--state DIR]
  edges create NAME | edges revoke NAME | edges list [--state DIR] (create prints the token a separate edge follows the CA with)
  getcert -hostnames a,b [-days N] [-key-type rsa|ecdsa] [-key-size N] [-certificate-out F] [-key-out F] [-format pem|der|p7b] [-overwrite]
  certs list [--zone-id ID] [--json] | certs get ID [--format pem|der|p7b] [--out F] | certs revoke ID
  convert FILE --to pem|der|p7b [--out F]

getcert and certs use STRICTEDGE_API_KEY (or CF_API_KEY) and STRICTEDGE_API_URL (default http://127.0.0.1:8787/client/v4).`;

const out = {
  stdout: (data: string | Uint8Array) => process.stdout.write(data),
  log: (line: string) => process.stderr.write(`${line}\n`),
};

// A reader that went away (`strictedge certs list | head -1`): stop quietly, with the status a
// process killed by SIGPIPE has (128 + 13), as the tools it is piped with do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(141);
});

const HELP_FLAGS = new Set(['--help', '-help', '-h']);

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (rest.some((arg) => HELP_FLAGS.has(arg))) return void out.stdout(`${USAGE}\n`); // `strictedge serve --help`
  switch (command) {
    case 'serve':
      return serve(rest, systemClock);
    case 'edge':
      return edgeCommand(rest, systemClock);
    case 'ca':
      return ca(rest, systemClock, out);
    case 'accounts':
      return accounts(rest, systemClock, out);
    case 'keys':
      return keys(rest, systemClock, out);
    case 'zones':
      return zones(rest, systemClock, out);
    case 'edges':
      return edges(rest, systemClock, out);
    case 'backup':
      return backup(rest, out);
    case 'getcert':
      return getcert(rest, out.log);
    case 'certs':
      return certs(rest, out);
    case 'convert':
      return convert(rest, out);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out.stdout(`${USAGE}\n`);
      return;
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof ApiError || error instanceof StateFolderBusyError || error instanceof BackupError) {
    out.log(`strictedge: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
  if (error instanceof StrictedgeError) {
    out.log(`strictedge: ${error.message} (code ${error.code})`);
    process.exit(1);
  }
  const { code, syscall, path } = error as NodeJS.ErrnoException;
  if (syscall === 'listen' || syscall === 'bind' || code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') {
    out.log(`strictedge: cannot listen: ${(error as Error).message}`);
    process.exit(1);
  }
  if (syscall !== undefined && path !== undefined) {
    // A state folder or file the command cannot use (a file in the way, no permission, a full disk).
    out.log(`strictedge: cannot ${syscall} ${path}: ${code}`);
    process.exit(1);
  }
  out.log(`strictedge: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
