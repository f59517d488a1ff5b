/**
 * The live feed, from the client's activity-feed hook: the first page over
 * REST, live events merged in without duplicates, older pages on demand; a
 * reconnect resumes where the page left off and a gap refetches.
 */
import { useCallback, useMemo, useState } from "react";
import type { ActivityType } from "@aiclone/hub-client";
import { useActivityFeed } from "@aiclone/hub-client/react";
import { toProblem } from "../hub/errors";
import { FeedView } from "./FeedView";

const PAGE = 25;

export function FeedScreen() {
  const [type, setType] = useState("");
  const types = useMemo(() => (type ? [type as ActivityType] : undefined), [type]);
  const feed = useActivityFeed({ types, limit: PAGE });
  const [loadingMore, setLoadingMore] = useState(false);
  const { loadMore } = feed;
  const onLoadMore = useCallback(() => {
    setLoadingMore(true);
    void loadMore().finally(() => setLoadingMore(false));
  }, [loadMore]);
  return (
    <FeedView
      items={feed.items}
      loading={feed.loading}
      error={feed.error ? `Could not load the feed. ${toProblem(feed.error).message}` : null}
      hasMore={feed.hasMore}
      loadingMore={loadingMore}
      onLoadMore={onLoadMore}
      type={type}
      onTypeChange={setType}
    />
  );
}
