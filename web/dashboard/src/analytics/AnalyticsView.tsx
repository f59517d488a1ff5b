import type { Summary } from "../hub/types";
import { formatDateTime } from "../lib/format";
import { ExportButtons, type ExportButtonsProps } from "./ExportButtons";
import { MetricCard } from "./MetricCard";
import { MetricChart } from "./MetricChart";
import { METRIC_ORDER, rangeInfo, type RangeName } from "./metrics";
import { RangePicker } from "./RangePicker";
import { TimeZonePicker } from "./TimeZonePicker";
import "./analytics.css";

export interface AnalyticsViewProps {
  range: RangeName;
  onRangeChange(range: RangeName): void;
  timeZone: string;
  onTimeZoneChange(tz: string): void;
  summary: Summary | null;
  loading: boolean;
  error: string | null;
  onRetry(): void;
  onExport: ExportButtonsProps["onExport"];
}

function ordered(summary: Summary) {
  const rank = (m: string) => {
    const i = (METRIC_ORDER as readonly string[]).indexOf(m);
    return i < 0 ? METRIC_ORDER.length : i;
  };
  return [...summary.metrics].sort((a, b) => rank(a.metric) - rank(b.metric));
}

export function AnalyticsView(props: AnalyticsViewProps) {
  const {
    range,
    onRangeChange,
    timeZone,
    onTimeZoneChange,
    summary,
    loading,
    error,
    onRetry,
    onExport,
  } = props;
  const info = rangeInfo(range);
  const metrics = summary ? ordered(summary) : [];
  return (
    <section aria-labelledby="analytics-title">
      <div className="page-head">
        <div>
          <h1 id="analytics-title">Analytics</h1>
          <p>
            Results per {info.bucket}, compared with the {info.previous}.
          </p>
        </div>
      </div>
      <div className="card analytics-toolbar">
        <RangePicker value={range} onChange={onRangeChange} />
        <TimeZonePicker value={timeZone} onChange={onTimeZoneChange} />
        <ExportButtons onExport={onExport} />
      </div>
      {error ? (
        <div className="alert alert-error" role="alert">
          <span>{error}</span>
          <button type="button" className="btn btn-small" onClick={onRetry}>
            Try again
          </button>
        </div>
      ) : null}
      {summary ? (
        <div aria-busy={loading}>
          <p className="period-note">
            {formatDateTime(summary.period_start, timeZone)} –{" "}
            {formatDateTime(summary.period_end, timeZone)} ({timeZone.replace(/_/g, " ")})
            {loading ? " · updating…" : ""}
          </p>
          <h2 className="visually-hidden">Totals</h2>
          <div className="metric-grid">
            {metrics.map((m) => (
              <MetricCard
                key={m.metric}
                metric={m}
                previousLabel={info.previous}
                nextLabel={info.next}
              />
            ))}
          </div>
          <h2 className="section-title">Over time</h2>
          <div className="chart-grid">
            {metrics.map((m) => (
              <MetricChart key={m.metric} metric={m} timeZone={timeZone} />
            ))}
          </div>
        </div>
      ) : loading ? (
        <div className="card empty-state">
          <span className="spinner" aria-hidden="true" /> Loading analytics…
        </div>
      ) : null}
    </section>
  );
}
