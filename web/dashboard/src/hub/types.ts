/** The shapes the screens render; the hub client's types are structurally the same. */

export interface Activity {
  id: string;
  type: string;
  title: string;
  message?: string | null;
  link?: string | null;
  created_at: string;
  metadata?: unknown;
}

export type TaskStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

export interface Task {
  id: string;
  kind: string;
  title: string;
  status: TaskStatus;
  progress: number;
  message?: string | null;
  eta_seconds?: number | null;
  created_at: string;
  updated_at: string;
  started_at?: string | null;
  finished_at?: string | null;
}

export interface ForecastPoint {
  start: string;
  value: number;
  low: number;
  high: number;
}

export interface MetricSummary {
  metric: string;
  total: number;
  previous_total: number;
  change_pct: number | null;
  average: number;
  trend: "up" | "down" | "stable";
  data_points: { start: string; value: number }[];
  /** The next period, when asked for and the hub offers it (`total` null: too little history). */
  forecast?: {
    method?: string;
    total?: number | null;
    low?: number | null;
    high?: number | null;
    points: ForecastPoint[];
  } | null;
}

export interface Summary {
  time_range: string;
  period_start: string;
  period_end: string;
  granularity: "hour" | "day" | "week" | "month";
  metrics: MetricSummary[];
}
