// The API key lives in sessionStorage only: gone when the tab closes or on sign out.
const KEY = 'strictedge.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(apiKey: string): void {
  sessionStorage.setItem(KEY, apiKey);
}

export function clearKey(): void {
  sessionStorage.removeItem(KEY);
}
