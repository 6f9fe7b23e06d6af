// The Cloudflare v4 response envelope, written by one function for every response.
import type { ServerResponse } from 'node:http';
import type { ErrorDef } from '../errors/catalogue.js';

export interface ResultInfo {
  readonly page: number;
  readonly per_page: number;
  readonly count: number;
  readonly total_count: number;
  readonly total_pages: number;
}

export function sendResult(res: ServerResponse, status: number, result: unknown, resultInfo?: ResultInfo): void {
  send(res, status, { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) });
}

export function sendError(res: ServerResponse, errorDef: ErrorDef, detail?: string, headers: Record<string, string> = {}): void {
  const message = detail ? `${errorDef.message}: ${detail}` : errorDef.message;
  send(res, errorDef.http, { success: false, errors: [{ code: errorDef.code, message }], messages: [], result: null }, headers);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}
