// Reconnect delays: "full jitter" (a uniformly random wait between zero and
// an exponentially growing cap), so that thousands of clients dropped at the
// same moment do not come back at the same moment.

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry):
 * `random() * min(max, min * 2^attempt)`, in milliseconds.
 */
export function backoff(
  attempt: number,
  minDelay: number,
  maxDelay: number,
  random: () => number = Math.random,
): number {
  // 2^31 · min already exceeds any sensible max; capping the exponent keeps
  // the arithmetic finite for clients that have been retrying for days.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 31);
  const cap = Math.min(maxDelay, minDelay * 2 ** exponent);
  return random() * cap;
}

/** A small seeded generator (mulberry32) for reproducible jitter in tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
