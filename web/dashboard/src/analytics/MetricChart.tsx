import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { MetricSummary } from "../hub/types";
import { formatMetric, isRate, metricLabel } from "./metrics";

const HEIGHT = 180;
const LINE = "#3451c6";
const FILL = "rgba(52, 81, 198, 0.10)";
const FORECAST = "#7a57c7";
const FORECAST_FILL = "rgba(122, 87, 199, 0.14)";

interface Series {
  x: number[];
  actual: (number | null)[];
  forecast: (number | null)[];
  low: (number | null)[];
  high: (number | null)[];
  /** The sum of the plotted actual values (for counts, the period's total). */
  sum: number;
  hasForecast: boolean;
}

function toSeries(metric: MetricSummary): Series {
  const points = metric.data_points;
  const future = metric.forecast?.points ?? [];
  const x: number[] = [];
  const actual: (number | null)[] = [];
  const forecast: (number | null)[] = [];
  const low: (number | null)[] = [];
  const high: (number | null)[] = [];
  let sum = 0;
  points.forEach((p, i) => {
    x.push(Date.parse(p.start) / 1000);
    actual.push(p.value);
    sum += p.value;
    // The forecast line starts from the last actual point so the two join up.
    const joins = future.length > 0 && i === points.length - 1;
    forecast.push(joins ? p.value : null);
    low.push(joins ? p.value : null);
    high.push(joins ? p.value : null);
  });
  for (const f of future) {
    x.push(Date.parse(f.start) / 1000);
    actual.push(null);
    forecast.push(f.value);
    low.push(f.low);
    high.push(f.high);
  }
  return { x, actual, forecast, low, high, sum, hasForecast: future.length > 0 };
}

/** A time-series chart of one metric, with the forecast as a dashed band when there is one. */
export function MetricChart({ metric, timeZone }: { metric: MetricSummary; timeZone: string }) {
  const box = useRef<HTMLDivElement>(null);
  const series = useMemo(() => toSeries(metric), [metric]);
  const rate = isRate(metric.metric);
  const label = metricLabel(metric.metric);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = (v: number | null) => (v === null ? "—" : formatMetric(metric.metric, v));
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : rate ? 1 : 4] } },
      axes: [
        {
          stroke: "#555e69",
          grid: { stroke: "#eceff3", width: 1 },
          ticks: { stroke: "#dfe3e8", width: 1 },
          font: "11px system-ui, sans-serif",
        },
        {
          stroke: "#555e69",
          grid: { stroke: "#eceff3", width: 1 },
          ticks: { show: false },
          size: 44,
          font: "11px system-ui, sans-serif",
          values: (_u, splits) =>
            splits.map((v) =>
              rate ? `${Math.round(v * 100)}%` : Number.isInteger(v) ? String(v) : "",
            ),
        },
      ],
      series: [
        {},
        {
          label,
          stroke: LINE,
          width: 2,
          fill: FILL,
          points: { show: false },
          value: (_u, v) => fmt(v),
        },
        {
          label: "Forecast",
          stroke: FORECAST,
          width: 2,
          dash: [6, 4],
          points: { show: false },
          value: (_u, v) => fmt(v),
        },
        {
          label: "Forecast low",
          stroke: FORECAST,
          width: 1,
          dash: [3, 3],
          points: { show: false },
        },
        {
          label: "Forecast high",
          stroke: FORECAST,
          width: 1,
          dash: [3, 3],
          points: { show: false },
        },
      ],
      bands: series.hasForecast ? [{ series: [4, 3], fill: FORECAST_FILL }] : [],
    };
    const data: uPlot.AlignedData = [
      series.x,
      series.actual,
      series.forecast,
      series.low,
      series.high,
    ];
    const plot = new uPlot(opts, data, el);
    const observer = new ResizeObserver(() => {
      const width = Math.max(240, el.clientWidth);
      if (width !== plot.width) plot.setSize({ width, height: HEIGHT });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [series, timeZone, rate, label, metric.metric]);

  const headline = rate
    ? formatMetric(metric.metric, metric.total)
    : formatMetric(metric.metric, series.sum);
  return (
    <figure
      className="card chart"
      data-metric={metric.metric}
      data-sum={rate ? undefined : series.sum}
      data-points={metric.data_points.length}
    >
      <figcaption className="chart-head">
        <span className="chart-title">{label}</span>
        <span className="chart-total">{headline}</span>
      </figcaption>
      <div
        className="chart-plot"
        ref={box}
        role="img"
        aria-label={`${label} over the period: ${headline} in total${series.hasForecast ? ", with a forecast band for the next period" : ""}.`}
      />
      {series.hasForecast ? (
        <p className="chart-legend">
          <span className="legend-actual" aria-hidden="true" /> Actual
          <span className="legend-forecast" aria-hidden="true" /> Forecast (80 % band)
        </p>
      ) : null}
    </figure>
  );
}
