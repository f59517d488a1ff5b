import { useEffect, useState } from "react";

/** The current time, refreshed every `everyMs`, for "5 minutes ago" wording. */
export function useNow(everyMs: number = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}
