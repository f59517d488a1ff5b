import { useCallback, useState } from "react";
import { useServices } from "../hub/services";
import { AnalyticsView } from "./AnalyticsView";
import { downloadExport } from "./download";
import { browserTimeZone, type RangeName } from "./metrics";
import { useSummary } from "./useSummary";

const PREFS = "aiclone-hub:analytics";

function savedPrefs(): { range: RangeName; tz: string } {
  try {
    const raw = JSON.parse(window.localStorage.getItem(PREFS) ?? "{}") as {
      range?: RangeName;
      tz?: string;
    };
    return { range: raw.range ?? "month", tz: raw.tz ?? browserTimeZone() };
  } catch {
    return { range: "month", tz: browserTimeZone() };
  }
}

export function AnalyticsScreen() {
  const { api } = useServices();
  const [prefs, setPrefs] = useState(savedPrefs);
  const { summary, loading, error, reload } = useSummary(api, prefs.range, prefs.tz);

  const update = useCallback((next: { range: RangeName; tz: string }) => {
    setPrefs(next);
    try {
      window.localStorage.setItem(PREFS, JSON.stringify(next));
    } catch {
      // Preferences are a convenience.
    }
  }, []);

  return (
    <AnalyticsView
      range={prefs.range}
      onRangeChange={(range) => update({ ...prefs, range })}
      timeZone={prefs.tz}
      onTimeZoneChange={(tz) => update({ ...prefs, tz })}
      summary={summary}
      loading={loading}
      error={error}
      onRetry={() => void reload()}
      onExport={(format, data) =>
        downloadExport(api, { format, data, time_range: prefs.range, tz: prefs.tz })
      }
    />
  );
}
