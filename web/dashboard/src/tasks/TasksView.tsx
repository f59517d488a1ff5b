import { useNow } from "../lib/useNow";
import type { Task } from "../hub/types";
import { TaskRow } from "./TaskRow";
import "./tasks.css";

export type TaskFilter = "active" | "all";

export interface TasksViewProps {
  tasks: readonly Task[];
  loading: boolean;
  error: string | null;
  filter: TaskFilter;
  onFilterChange(filter: TaskFilter): void;
}

export function TasksView({ tasks, loading, error, filter, onFilterChange }: TasksViewProps) {
  const now = useNow();
  const shown =
    filter === "active"
      ? tasks.filter((t) => t.status === "queued" || t.status === "running")
      : tasks;
  return (
    <section aria-labelledby="tasks-title">
      <div className="page-head">
        <div>
          <h1 id="tasks-title">Tasks</h1>
          <p>Long-running research, outreach and content work, with live progress.</p>
        </div>
        <div className="seg" role="group" aria-label="Show">
          <button
            type="button"
            aria-pressed={filter === "active"}
            onClick={() => onFilterChange("active")}
          >
            In progress
          </button>
          <button
            type="button"
            aria-pressed={filter === "all"}
            onClick={() => onFilterChange("all")}
          >
            All
          </button>
        </div>
      </div>
      <div className="card" aria-busy={loading}>
        {error ? (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        ) : null}
        {loading && tasks.length === 0 ? (
          <div className="empty-state">
            <span className="spinner" aria-hidden="true" /> Loading tasks…
          </div>
        ) : shown.length === 0 && !error ? (
          <div className="empty-state">
            <strong>{filter === "active" ? "Nothing in progress" : "No tasks yet"}</strong>
            Tasks your clone starts show up here with their progress.
          </div>
        ) : (
          <ul className="task-list" aria-label="Tasks">
            {shown.map((t) => (
              <TaskRow key={t.id} task={t} now={now} />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
