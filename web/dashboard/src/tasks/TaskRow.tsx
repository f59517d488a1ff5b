import { formatDuration, formatRelative } from "../lib/format";
import type { Task } from "../hub/types";

const STATUS_WORDS: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

const KIND_WORDS: Record<string, string> = {
  research: "Research",
  outreach: "Outreach",
  content: "Content",
  automation: "Automation",
};

/** One task: title, kind, status, a progress bar and what is left (ETA). */
export function TaskRow({ task, now }: { task: Task; now: number }) {
  const progress = Math.max(0, Math.min(100, Math.round(task.progress)));
  const active = task.status === "queued" || task.status === "running";
  const labelId = `task-${task.id}-title`;
  return (
    <li className={`task task-${task.status}`} data-task-id={task.id}>
      <div>
        <p className="task-title" id={labelId}>
          {task.title}
        </p>
        <div className="task-sub">
          <span>{KIND_WORDS[task.kind] ?? task.kind}</span>
          <span aria-hidden="true">·</span>
          <span>Updated {formatRelative(task.updated_at, now)}</span>
        </div>
      </div>
      <span className={`badge task-status status-${task.status}`}>
        {STATUS_WORDS[task.status] ?? task.status}
      </span>
      <div className="task-progress">
        <div
          className="progress-track"
          role="progressbar"
          aria-labelledby={labelId}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progress}
          aria-valuetext={`${progress} %`}
        >
          <div className="progress-fill" style={{ width: `${progress}%` }} />
        </div>
        <span className="progress-value">{progress} %</span>
      </div>
      <div className="task-detail">
        <span className="task-message">
          {task.message ??
            (task.status === "queued" ? "Waiting to start" : active ? "Working…" : "")}
        </span>
        {active && task.eta_seconds !== null && task.eta_seconds !== undefined ? (
          <span className="task-eta">ETA {formatDuration(task.eta_seconds)}</span>
        ) : null}
      </div>
    </li>
  );
}
