import { formatChange } from "../lib/format";
import type { MetricSummary } from "../hub/types";
import { formatMetric, metricLabel } from "./metrics";

const ARROWS = { up: "▲", down: "▼", stable: "▶" } as const;
const TREND_WORDS = { up: "up", down: "down", stable: "steady" } as const;

/** One metric: its total, the change against the previous period and the trend arrow. */
export function MetricCard({
  metric,
  previousLabel,
  nextLabel,
}: {
  metric: MetricSummary;
  previousLabel: string;
  nextLabel: string;
}) {
  const titleId = `metric-${metric.metric}-title`;
  const forecastTotal = metric.forecast?.total;
  return (
    <article className="card metric-card" aria-labelledby={titleId} data-metric={metric.metric}>
      <h3 id={titleId} className="metric-name">
        {metricLabel(metric.metric)}
      </h3>
      <p className="metric-total" data-total={metric.total}>
        {formatMetric(metric.metric, metric.total)}
      </p>
      <p className={`metric-change trend-${metric.trend}`}>
        <span className="metric-arrow" aria-hidden="true">
          {ARROWS[metric.trend]}
        </span>
        <span className="visually-hidden">Trend {TREND_WORDS[metric.trend]}, </span>
        {metric.change_pct !== null && metric.change_pct !== undefined ? (
          <>
            <span className="metric-pct">{formatChange(metric.change_pct)}</span>
            <span className="metric-vs">vs {previousLabel}</span>
          </>
        ) : metric.total > 0 ? (
          <>
            <span className="metric-pct">New</span>
            <span className="metric-vs">vs none before</span>
          </>
        ) : (
          <span className="metric-vs">No activity yet</span>
        )}
      </p>
      {forecastTotal !== undefined && forecastTotal !== null ? (
        <p className="metric-forecast">
          Forecast {nextLabel}: {formatMetric(metric.metric, forecastTotal)}
          {typeof metric.forecast?.low === "number" && typeof metric.forecast.high === "number"
            ? ` (${formatMetric(metric.metric, metric.forecast.low)}–${formatMetric(metric.metric, metric.forecast.high)})`
            : ""}
        </p>
      ) : null}
    </article>
  );
}
