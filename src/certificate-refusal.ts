// Whether a failed fetch failed on the server's certificate (not trusted, wrong name, expired):
// a setting to fix, not an outage to wait out, so callers say what to do about it.
export function isCertificateRefusal(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && /CERT|VERIFY|SELF_SIGNED|ALTNAME/.test(code);
}
