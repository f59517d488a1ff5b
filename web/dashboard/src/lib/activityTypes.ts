/** The words the page shows for each activity type; the list of types
 * itself comes from the client (`ACTIVITY_TYPES`), which has it from the
 * hub's document. */
import { ACTIVITY_TYPES, EVENT_TYPES, type ActivityType } from "@aiclone/hub-client";

export { ACTIVITY_TYPES, EVENT_TYPES };
export type ActivityTypeName = ActivityType;

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

/** Webhook events that are not activities. */
const PRESENCE_LABELS: Record<string, string> = {
  "presence.online": "User comes online",
  "presence.offline": "User goes offline",
};

export function activityLabel(type: string): string {
  return (
    (LABELS as Record<string, string>)[type] ?? PRESENCE_LABELS[type] ?? type.replace(/_/g, " ")
  );
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
