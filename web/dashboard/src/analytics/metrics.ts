/** Names and number formats of the nine analytics metrics. */
import { formatCount, formatPercent } from "../lib/format";

export const METRIC_ORDER = [
  "prospects_added",
  "prospects_analyzed",
  "research_tasks_completed",
  "outreach_sent",
  "meetings_booked",
  "content_published",
  "automations_triggered",
  "tasks_completed",
  "conversion_rate",
] as const;

const LABELS: Record<string, string> = {
  prospects_added: "Prospects added",
  prospects_analyzed: "Prospects analyzed",
  research_tasks_completed: "Research tasks done",
  outreach_sent: "Outreach sent",
  meetings_booked: "Meetings booked",
  content_published: "Content published",
  automations_triggered: "Automations triggered",
  tasks_completed: "Tasks completed",
  conversion_rate: "Conversion rate",
};

export function metricLabel(metric: string): string {
  return LABELS[metric] ?? metric.replace(/_/g, " ");
}

/** Rates are fractions shown as percentages; everything else is a count. */
export function isRate(metric: string): boolean {
  return metric === "conversion_rate";
}

export function formatMetric(metric: string, value: number): string {
  return isRate(metric) ? formatPercent(value) : formatCount(value);
}

export const RANGES = [
  { value: "day", label: "Day", previous: "previous 24 h", next: "next 24 h", bucket: "hour" },
  { value: "week", label: "Week", previous: "previous week", next: "next week", bucket: "day" },
  {
    value: "month",
    label: "Month",
    previous: "previous 30 days",
    next: "next 30 days",
    bucket: "day",
  },
  {
    value: "quarter",
    label: "Quarter",
    previous: "previous quarter",
    next: "next quarter",
    bucket: "week",
  },
  { value: "year", label: "Year", previous: "previous year", next: "next year", bucket: "month" },
] as const;

export type RangeName = (typeof RANGES)[number]["value"];

export function rangeInfo(range: string) {
  return RANGES.find((r) => r.value === range) ?? RANGES[2];
}

/** Every IANA zone the browser knows, with UTC and the browser's own zone first. */
export function timeZones(): string[] {
  const local = browserTimeZone();
  let all: string[];
  try {
    all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  } catch {
    all = [];
  }
  const rest = all.filter((z) => z !== "UTC" && z !== local);
  return local === "UTC" ? ["UTC", ...rest] : [local, "UTC", ...rest];
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}
