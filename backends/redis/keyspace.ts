/** A Redis key as the simulated servers keep it: a string value and an absolute expiry. */
export interface Entry {
  value: string;
  /** Absolute wall-clock expiry in ms, or null for no expiry. */
  expiresAtMs: number | null;
}

/** The key's entry, unless it has expired by `wallMs` (then it is deleted, as a touch does in Redis). */
export function liveEntry(data: Map<string, Entry>, key: string, wallMs: number): Entry | undefined {
  const entry = data.get(key);
  if (entry !== undefined && entry.expiresAtMs !== null && wallMs >= entry.expiresAtMs) {
    data.delete(key);
    return undefined;
  }
  return entry;
}
