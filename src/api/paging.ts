// page / per_page query parameters and the result_info they produce.
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import type { ResultInfo } from './envelope.js';

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

function positiveInt(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new StrictedgeError(Errors.INVALID_FIELD, `${name} must be an integer from 1 to ${max}`);
  return value;
}

export function readPaging(query: URLSearchParams): { page: number; perPage: number } {
  return { page: positiveInt(query, 'page', 1, 1_000_000), perPage: positiveInt(query, 'per_page', DEFAULT_PER_PAGE, MAX_PER_PAGE) };
}

export function resultInfo(page: number, perPage: number, count: number, total: number): ResultInfo {
  return { page, per_page: perPage, count, total_count: total, total_pages: Math.ceil(total / perPage) };
}
