import { activityLabel, activityTone } from "../lib/activityTypes";
import { formatDateTime, formatRelative } from "../lib/format";
import type { Activity } from "../hub/types";

const INITIALS: Record<string, string> = {
  prospect_added: "P",
  research_completed: "R",
  outreach_sent: "O",
  meeting_booked: "M",
  content_published: "C",
  task_completed: "T",
  automation_triggered: "A",
  notification: "N",
};

/** Only web links are rendered as links; anything else is shown as text. */
function safeHref(link: string): string | null {
  try {
    const url = new URL(link, window.location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export function FeedItem({
  activity,
  fresh,
  now,
}: {
  activity: Activity;
  fresh: boolean;
  now: number;
}) {
  const href = activity.link ? safeHref(activity.link) : null;
  return (
    <li className={`feed-item${fresh ? " feed-item-new" : ""}`} data-activity-id={activity.id}>
      <span className={`feed-icon tone-${activityTone(activity.type)}`} aria-hidden="true">
        {INITIALS[activity.type] ?? "•"}
      </span>
      <div className="feed-body">
        <p className="feed-title">{activity.title}</p>
        {activity.message ? <p className="feed-message">{activity.message}</p> : null}
        <div className="feed-meta">
          <span className={`badge tone-${activityTone(activity.type)}`}>
            {activityLabel(activity.type)}
          </span>
          {activity.link ? (
            href ? (
              <a className="feed-link" href={href} target="_blank" rel="noopener noreferrer">
                Open link<span className="visually-hidden"> for {activity.title}</span>
              </a>
            ) : (
              <span className="muted">{activity.link}</span>
            )
          ) : null}
        </div>
      </div>
      <time
        className="feed-time"
        dateTime={activity.created_at}
        title={formatDateTime(activity.created_at)}
      >
        {formatRelative(activity.created_at, now)}
      </time>
    </li>
  );
}
