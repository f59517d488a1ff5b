/**
 * The user's webhook endpoints: loaded over REST, refreshed one by one when
 * a live delivery frame says one of them just made an attempt (its last
 * delivery, status code and failure count changed), and read again after a
 * reconnect.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { Webhook } from "@aiclone/hub-client";
import { useHubApi, useHubClient } from "@aiclone/hub-client/react";
import { toProblem } from "../hub/errors";

export interface WebhookList {
  items: Webhook[];
  loading: boolean;
  error: string | null;
  reload(): Promise<void>;
  /** Puts a changed (or new) endpoint into the list. */
  upsert(webhook: Webhook): void;
  remove(id: string): void;
  /** Reads one endpoint again (after an action whose answer is not the endpoint). */
  refresh(id: string): void;
}

/** Frames of one endpoint within this window cause a single re-read. */
const REFRESH_AFTER_MS = 300;

export function useWebhooks(): WebhookList {
  const api = useHubApi();
  const client = useHubClient();
  const [items, setItems] = useState<Webhook[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const timers = useRef(new Map<string, number>());

  const upsert = useCallback((webhook: Webhook) => {
    setItems((list) => {
      const i = list.findIndex((w) => w.id === webhook.id);
      if (i < 0) return [...list, webhook];
      const copy = [...list];
      copy[i] = webhook;
      return copy;
    });
  }, []);

  const remove = useCallback((id: string) => {
    setItems((list) => list.filter((w) => w.id !== id));
  }, []);

  const refresh = useCallback(
    (id: string) => {
      if (timers.current.has(id)) return;
      const timer = window.setTimeout(() => {
        timers.current.delete(id);
        api.getWebhook(id).then(upsert, (err: unknown) => {
          if (toProblem(err).status === 404) remove(id);
        });
      }, REFRESH_AFTER_MS);
      timers.current.set(id, timer);
    },
    [api, upsert, remove],
  );

  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const page = await api.listWebhooks();
      setItems(page.items);
      setError(null);
    } catch (err) {
      setError(`Could not load the endpoints. ${toProblem(err).message}`);
    } finally {
      setLoading(false);
    }
  }, [api]);

  useEffect(() => {
    void reload();
    const offDelivery = client.on("delivery", (frame) => {
      // What the frame says shows at once; the failure count and status
      // come with the re-read.
      setItems((list) =>
        list.map((w) =>
          w.id === frame.webhook_id
            ? {
                ...w,
                last_delivery_at: frame.attempt.attempted_at,
                last_status_code: frame.attempt.status_code ?? null,
              }
            : w,
        ),
      );
      refresh(frame.webhook_id);
    });
    // Frames sent while the page was away are not replayed: read again.
    let first = client.state !== "connected";
    const offConnected = client.on("connected", () => {
      if (first) {
        first = false;
        return;
      }
      void reload();
    });
    const pending = timers.current;
    return () => {
      offDelivery();
      offConnected();
      for (const timer of pending.values()) window.clearTimeout(timer);
      pending.clear();
    };
  }, [api, client, reload, refresh]);

  return { items, loading, error, reload, upsert, remove, refresh };
}
