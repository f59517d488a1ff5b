/**
 * Tasks from the client's live task list: a REST page, then every
 * `task_update` frame applied in place, and a refetch after a reconnect.
 */
import { useState } from "react";
import { useTasks } from "@aiclone/hub-client/react";
import { toProblem } from "../hub/errors";
import { TasksView, type TaskFilter } from "./TasksView";

export function TasksScreen() {
  const [filter, setFilter] = useState<TaskFilter>("active");
  const tasks = useTasks({ limit: 100 });
  return (
    <TasksView
      tasks={tasks.items}
      loading={tasks.loading}
      error={tasks.error ? `Could not load tasks. ${toProblem(tasks.error).message}` : null}
      filter={filter}
      onFilterChange={setFilter}
    />
  );
}
