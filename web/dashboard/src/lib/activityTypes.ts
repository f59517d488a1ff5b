/** The activity types the hub knows, with the words the page shows for them. */
export const ACTIVITY_TYPES = [
  "prospect_added",
  "research_completed",
  "outreach_sent",
  "meeting_booked",
  "content_published",
  "task_completed",
  "automation_triggered",
  "notification",
] as const;

export type ActivityTypeName = (typeof ACTIVITY_TYPES)[number];

const LABELS: Record<ActivityTypeName, string> = {
  prospect_added: "Prospect added",
  research_completed: "Research completed",
  outreach_sent: "Outreach sent",
  meeting_booked: "Meeting booked",
  content_published: "Content published",
  task_completed: "Task completed",
  automation_triggered: "Automation triggered",
  notification: "Notification",
};

export function activityLabel(type: string): string {
  return (LABELS as Record<string, string>)[type] ?? type.replace(/_/g, " ");
}

/** A CSS class suffix that gives each type its own colour in the feed. */
export function activityTone(type: string): string {
  switch (type) {
    case "prospect_added":
    case "research_completed":
      return "blue";
    case "outreach_sent":
    case "meeting_booked":
      return "green";
    case "content_published":
      return "purple";
    case "task_completed":
    case "automation_triggered":
      return "amber";
    default:
      return "grey";
  }
}
