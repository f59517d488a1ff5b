/**
 * Loads the analytics summary for a range and time zone, with forecasts when
 * this hub offers them (it lists a `forecast` parameter in its OpenAPI
 * document; an older hub answers 422 to parameters it does not know).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { HubApi } from "@aiclone/hub-client";
import { toProblem } from "../hub/errors";
import type { Summary } from "../hub/types";

let forecastSupport: Promise<boolean> | null = null;

/** Whether the hub's summary accepts `forecast=true`, asked once per page load. */
function supportsForecast(api: HubApi): Promise<boolean> {
  forecastSupport ??= api.client
    .GET("/api/openapi.json" as never)
    .then(({ data }) => {
      const doc = data as
        { paths?: Record<string, { get?: { parameters?: { name?: string }[] } }> } | undefined;
      const params = doc?.paths?.["/api/analytics/summary"]?.get?.parameters ?? [];
      return params.some((p) => p.name === "forecast");
    })
    .catch(() => false);
  return forecastSupport;
}

interface SummaryQuery {
  time_range: string;
  tz: string;
  forecast?: boolean;
}

async function fetchSummary(api: HubApi, range: string, tz: string): Promise<Summary> {
  const query: SummaryQuery = { time_range: range, tz };
  const withForecast = await supportsForecast(api);
  if (withForecast) query.forecast = true;
  const get = (q: SummaryQuery) =>
    api.unwrap(
      api.client.GET("/api/analytics/summary", { params: { query: q as never } }),
    ) as Promise<Summary>;
  try {
    return await get(query);
  } catch (err) {
    if (withForecast && toProblem(err).status === 422) {
      forecastSupport = Promise.resolve(false);
      return get({ time_range: range, tz });
    }
    throw err;
  }
}

export function useSummary(api: HubApi, range: string, tz: string) {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const next = await fetchSummary(api, range, tz);
      if (mine !== seq.current) return;
      setSummary(next);
      setError(null);
    } catch (err) {
      if (mine !== seq.current) return;
      setError(`Could not load analytics. ${toProblem(err).message}`);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [api, range, tz]);

  useEffect(() => {
    void load();
  }, [load]);

  return { summary, loading, error, reload: load };
}
