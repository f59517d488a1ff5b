/**
 * One endpoint's delivery log: the first page over REST (optionally one
 * status only), older pages on demand, and every live `delivery` frame of
 * this endpoint merged in place. Frames that arrive while a page is loading
 * are kept and applied on top of it, so none is lost or shown twice.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { DeliveryLog } from "@aiclone/hub-client";
import { useHubApi, useHubClient } from "@aiclone/hub-client/react";
import { toProblem } from "../hub/errors";
import { markRetried, mergeDelivery, type DeliveryFrame, type StatusFilter } from "./model";

const PAGE = 25;

export interface DeliveryLogState {
  items: DeliveryLog[];
  loading: boolean;
  error: string | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore(): void;
  reload(): void;
  /** Applies an attempt the page learnt of itself (a test's answer). */
  apply(frame: DeliveryFrame): void;
  /** Marks a delivery as queued again after a manual retry asked when it had `attemptsBefore` attempts. */
  markPending(id: string, attemptsBefore: number, nextAttemptAt: string | null): void;
}

export function useDeliveries(webhookId: string, filter: StatusFilter): DeliveryLogState {
  const api = useHubApi();
  const client = useHubClient();
  const [items, setItems] = useState<DeliveryLog[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [generation, setGeneration] = useState(0);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const apply = useCallback(
    (frame: DeliveryFrame) =>
      setItems((list) => mergeDelivery(list, frame, webhookId, filterRef.current)),
    [webhookId],
  );

  useEffect(() => {
    // Another endpoint or filter: nothing of the previous list stays on screen.
    setItems([]);
    setCursor(null);
    let live = true;
    let loaded = false;
    const early: DeliveryFrame[] = [];
    const offDelivery = client.on("delivery", (frame) => {
      if (frame.webhook_id !== webhookId) return;
      if (!loaded) early.push(frame);
      else apply(frame);
    });
    const load = async () => {
      setLoading(true);
      try {
        const page = await api.listDeliveries(webhookId, {
          limit: PAGE,
          ...(filter ? { status: filter } : {}),
        });
        if (!live) return;
        loaded = true;
        setItems(early.reduce((list, f) => mergeDelivery(list, f, webhookId, filter), page.items));
        early.length = 0;
        setCursor(page.next_cursor ?? null);
        setError(null);
      } catch (err) {
        if (live) setError(`Could not load the delivery log. ${toProblem(err).message}`);
      } finally {
        if (live) setLoading(false);
      }
    };
    void load();
    let first = client.state !== "connected";
    const offConnected = client.on("connected", () => {
      if (first) {
        first = false;
        return;
      }
      loaded = false;
      void load();
    });
    return () => {
      live = false;
      offDelivery();
      offConnected();
    };
  }, [api, client, webhookId, filter, apply, generation]);

  const loadMore = useCallback(() => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    api
      .listDeliveries(webhookId, { limit: PAGE, cursor, ...(filter ? { status: filter } : {}) })
      .then(
        (page) => {
          setItems((list) => {
            const known = new Set(list.map((d) => d.id));
            return [...list, ...page.items.filter((d) => !known.has(d.id))];
          });
          setCursor(page.next_cursor ?? null);
        },
        (err: unknown) => setError(`Could not load older deliveries. ${toProblem(err).message}`),
      )
      .finally(() => setLoadingMore(false));
  }, [api, webhookId, filter, cursor, loadingMore]);

  const markPending = useCallback(
    (id: string, attemptsBefore: number, nextAttemptAt: string | null) =>
      setItems((list) => markRetried(list, id, attemptsBefore, nextAttemptAt)),
    [],
  );

  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  return {
    items,
    loading,
    error,
    hasMore: cursor !== null,
    loadingMore,
    loadMore,
    reload,
    apply,
    markPending,
  };
}
