/**
 * Replaces every occurrence of the given secrets in `text` with `***`, so log tails and
 * messages can be shown without leaking tokens or keys. Empty secrets are ignored.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length > 0) out = out.split(secret).join("***");
  }
  return out;
}
