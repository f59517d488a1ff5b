import { useNow } from "../lib/useNow";
import { useEffect, useId, useRef, useState } from "react";
import { ACTIVITY_TYPES, activityLabel } from "../lib/activityTypes";
import type { Activity } from "../hub/types";
import { FeedItem } from "./FeedItem";
import "./feed.css";

export interface FeedViewProps {
  items: readonly Activity[];
  loading: boolean;
  /** A sentence to show when the first page could not be loaded. */
  error: string | null;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore(): void;
  type: string;
  onTypeChange(type: string): void;
}

/** The live feed: a type filter, newest first, older pages fetched when the end scrolls into view. */
export function FeedView(props: FeedViewProps) {
  const { items, loading, error, hasMore, loadingMore, onLoadMore, type, onTypeChange } = props;
  const filterId = useId();
  const now = useNow(30_000);
  const fresh = useFreshIds(items, loading);

  return (
    <section aria-labelledby="feed-title">
      <div className="page-head">
        <div>
          <h1 id="feed-title">Live feed</h1>
          <p>Everything your clone does, as it happens.</p>
        </div>
        <div className="toolbar">
          <div className="field feed-filter">
            <label htmlFor={filterId}>Type</label>
            <select
              id={filterId}
              className="select"
              value={type}
              onChange={(e) => onTypeChange(e.target.value)}
            >
              <option value="">All activity</option>
              {ACTIVITY_TYPES.map((t) => (
                <option key={t} value={t}>
                  {activityLabel(t)}
                </option>
              ))}
            </select>
          </div>
        </div>
      </div>
      <div className="card" aria-busy={loading}>
        {error ? (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        ) : null}
        {loading && items.length === 0 ? (
          <div className="empty-state">
            <span className="spinner" aria-hidden="true" /> Loading activity…
          </div>
        ) : items.length === 0 && !error ? (
          <div className="empty-state">
            <strong>No activity yet</strong>
            {type
              ? `Nothing of type “${activityLabel(type)}” so far.`
              : "New events appear here the moment they happen."}
          </div>
        ) : (
          <ol className="feed-list" aria-label="Activities, newest first">
            {items.map((a) => (
              <FeedItem key={a.id} activity={a} fresh={fresh.has(a.id)} now={now} />
            ))}
          </ol>
        )}
        {items.length > 0 ? (
          <LoadMore hasMore={hasMore} loading={loadingMore} onLoadMore={onLoadMore} />
        ) : null}
      </div>
    </section>
  );
}

function LoadMore({
  hasMore,
  loading,
  onLoadMore,
}: {
  hasMore: boolean;
  loading: boolean;
  onLoadMore(): void;
}) {
  const sentinel = useRef<HTMLDivElement>(null);
  const latest = useRef(onLoadMore);
  latest.current = onLoadMore;

  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasMore || loading) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) latest.current();
      },
      { rootMargin: "200px" },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasMore, loading]);

  return (
    <div className="feed-foot" ref={sentinel}>
      {loading ? (
        <span>
          <span className="spinner" aria-hidden="true" /> Loading older activity…
        </span>
      ) : hasMore ? (
        <button type="button" className="btn btn-small" onClick={() => latest.current()}>
          Load older activity
        </button>
      ) : (
        <span>That is everything.</span>
      )}
    </div>
  );
}

/** Ids that arrived after the first render, so they can be highlighted briefly. */
function useFreshIds(items: readonly Activity[], loading: boolean): Set<string> {
  const seen = useRef<Set<string> | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(() => new Set());
  useEffect(() => {
    if (loading && items.length === 0) return;
    if (seen.current === null) {
      seen.current = new Set(items.map((a) => a.id));
      return;
    }
    const known = seen.current;
    const added = items.filter((a) => !known.has(a.id)).map((a) => a.id);
    for (const id of added) known.add(id);
    if (added.length > 0 && items[0] && added.includes(items[0].id)) setFresh(new Set(added));
  }, [items, loading]);
  return fresh;
}
