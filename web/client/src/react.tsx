// React bindings: `HubProvider` puts a HubClient (the live connection), a
// HubApi (REST) and optionally the Session into context; the hooks read from
// them. Lists start with a REST page and then merge live frames by id, so a
// frame that arrives during the first fetch is neither lost nor shown twice.

import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from "react";
import type { HubApi, ListTasksQuery } from "./api.js";
import type { DisconnectedEvent, HubClient, HubState } from "./client.js";
import { HubError } from "./errors.js";
import type { Session } from "./session.js";
import { compareIds, type Activity, type ActivityType, type Task } from "./types.js";

export interface HubContextValue {
  client: HubClient | null;
  api: HubApi | null;
  session: Session | null;
}

const HubContext = createContext<HubContextValue | null>(null);

export interface HubProviderProps {
  client?: HubClient | null;
  api?: HubApi | null;
  session?: Session | null;
  /** Connect the client on mount and disconnect it on unmount (default true). */
  autoConnect?: boolean;
  children?: ReactNode;
}

export function HubProvider(props: HubProviderProps) {
  const { client = null, api = null, session = null, autoConnect = true, children } = props;
  useEffect(() => {
    if (!client || !autoConnect) return;
    client.connect();
    return () => client.disconnect();
  }, [client, autoConnect]);
  const value = useMemo(() => ({ client, api, session }), [client, api, session]);
  return createElement(HubContext.Provider, { value }, children);
}

/** The provider's client, api and session (each possibly null). */
export function useHub(): HubContextValue {
  const value = useContext(HubContext);
  if (!value) throw new Error("useHub must be used inside a <HubProvider>");
  return value;
}

function useRequired<K extends keyof HubContextValue>(key: K): NonNullable<HubContextValue[K]> {
  const value = useHub()[key];
  if (!value) throw new Error(`<HubProvider> was given no ${key}`);
  return value as NonNullable<HubContextValue[K]>;
}

export const useHubClient = (): HubClient => useRequired("client");
export const useHubApi = (): HubApi => useRequired("api");
export const useSession = (): Session | null => useHub().session;

// ---- connection state ---------------------------------------------------

export interface HubConnectionState {
  state: HubState;
  /** The node serving this session, while connected. */
  nodeId: string | null;
  sessionId: string | null;
  /** When the next reconnect is due (epoch ms), while waiting to reconnect. */
  nextReconnectAt: number | null;
  /** The last close, if any. */
  lastDisconnect: DisconnectedEvent | null;
  /** As of the last connection change (read `client.lastEventId` for the live value). */
  lastEventId: string | null;
}

const DISCONNECTED: HubConnectionState = {
  state: "disconnected",
  nodeId: null,
  sessionId: null,
  nextReconnectAt: null,
  lastDisconnect: null,
  lastEventId: null,
};

interface Store<T> {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): T;
}

const stateStores = new WeakMap<HubClient, Store<HubConnectionState>>();

function stateStore(client: HubClient): Store<HubConnectionState> {
  let store = stateStores.get(client);
  if (store) return store;
  let lastDisconnect: DisconnectedEvent | null = null;
  const read = (): HubConnectionState => ({
    state: client.state,
    nodeId: client.session?.node_id ?? null,
    sessionId: client.session?.session_id ?? null,
    nextReconnectAt: client.nextReconnectAt,
    lastDisconnect,
    lastEventId: client.lastEventId,
  });
  let snapshot = read();
  store = {
    subscribe(onChange) {
      const update = () => {
        snapshot = read();
        onChange();
      };
      const offs = [
        client.on("state", update),
        client.on("connected", update),
        client.on("reconnecting", update),
        client.on("disconnected", (d) => {
          lastDisconnect = d;
          update();
        }),
      ];
      return () => offs.forEach((off) => off());
    },
    getSnapshot() {
      // Between a state change and the next render, read() may differ only
      // in lastEventId; the snapshot stays the same object until an update.
      return snapshot;
    },
  };
  stateStores.set(client, store);
  return store;
}

const noStore: Store<HubConnectionState> = {
  subscribe: () => () => {},
  getSnapshot: () => DISCONNECTED,
};

/** The live connection's state, re-rendering on every change. */
export function useHubState(): HubConnectionState {
  const { client } = useHub();
  const store = client ? stateStore(client) : noStore;
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

// ---- activity feed ------------------------------------------------------

export interface ActivityFeedOptions {
  /** Only these types (all when absent or empty). */
  types?: ActivityType[];
  /** Page size of the REST fetches (1–200, default 50). */
  limit?: number;
}

export interface ActivityFeed {
  /** Newest first, each activity once. */
  items: Activity[];
  /** True until the first page has arrived. */
  loading: boolean;
  error: HubError | null;
  /** Fetches the next older page. */
  loadMore: () => Promise<void>;
  hasMore: boolean;
  /** Fetches the newest page again and merges it (what a `gap` does). */
  refetch: () => Promise<void>;
}

function asHubError(err: unknown): HubError {
  return err instanceof HubError
    ? err
    : new HubError({ code: "client_error", message: String(err), cause: err });
}

/**
 * The user's activities: the newest page over REST, then every live event
 * merged in by id (no duplicates, newest first), older pages on `loadMore`.
 * A `gap` (history did not reach back far enough on a resume) refetches the
 * newest page. With several `types` the REST pages are filtered here (the
 * REST filter takes one type), so a page may show fewer than `limit`.
 */
export function useActivityFeed(options: ActivityFeedOptions = {}): ActivityFeed {
  const api = useHubApi();
  const { client } = useHub();
  const limit = options.limit ?? 50;
  const typesKey = [...(options.types ?? [])].sort().join(",");
  const [items, setItems] = useState<Activity[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<HubError | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const byId = useRef(new Map<string, Activity>());
  const cursor = useRef<string | null>(null);
  const busyMore = useRef(false);
  const firstLoaded = useRef(false);
  const generation = useRef(0);

  const types = useMemo(
    () => (typesKey ? (typesKey.split(",") as ActivityType[]) : []),
    [typesKey],
  );
  const matches = useCallback(
    (a: Activity) => types.length === 0 || types.includes(a.type),
    [types],
  );
  const merge = useCallback(
    (list: Activity[]) => {
      for (const a of list) if (matches(a)) byId.current.set(a.id, a);
      setItems([...byId.current.values()].sort((x, y) => compareIds(y.id, x.id)));
    },
    [matches],
  );
  const query = useCallback(
    (extra: { cursor?: string }) => ({
      limit,
      ...(types.length === 1 ? { type: types[0] } : {}),
      ...extra,
    }),
    [limit, types],
  );

  const refetch = useCallback(async () => {
    const gen = generation.current;
    try {
      const page = await api.listActivities(query({}));
      if (gen !== generation.current) return;
      merge(page.items);
      // Only the first load decides where older pages start.
      if (!firstLoaded.current) {
        firstLoaded.current = true;
        cursor.current = page.next_cursor ?? null;
        setHasMore(cursor.current !== null);
      }
      setError(null);
    } catch (err) {
      if (gen === generation.current) setError(asHubError(err));
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }, [api, query, merge]);

  useEffect(() => {
    generation.current += 1;
    byId.current = new Map();
    cursor.current = null;
    firstLoaded.current = false;
    setItems([]);
    setLoading(true);
    setHasMore(false);
    setError(null);
    const offs = client
      ? [client.on("event", (a) => merge([a])), client.on("gap", () => void refetch())]
      : [];
    void refetch();
    return () => offs.forEach((off) => off());
  }, [client, merge, refetch]);

  const loadMore = useCallback(async () => {
    const from = cursor.current;
    if (!from || busyMore.current) return;
    busyMore.current = true;
    const gen = generation.current;
    try {
      const page = await api.listActivities(query({ cursor: from }));
      if (gen !== generation.current) return;
      merge(page.items);
      cursor.current = page.next_cursor ?? null;
      setHasMore(cursor.current !== null);
    } catch (err) {
      if (gen === generation.current) setError(asHubError(err));
    } finally {
      busyMore.current = false;
    }
  }, [api, query, merge]);

  return { items, loading, error, loadMore, hasMore, refetch };
}

// ---- tasks ----------------------------------------------------------------

/** The later of two versions of a task (updates can race the REST fetch). */
function newer(prev: Task | null | undefined, next: Task): Task {
  if (!prev) return next;
  return next.updated_at >= prev.updated_at ? next : prev;
}

export interface TaskState {
  task: Task | null;
  loading: boolean;
  error: HubError | null;
}

/**
 * One task, live: fetched over REST, then updated by `task_update` frames,
 * and fetched again after every reconnect (task updates are not replayed).
 */
export function useTask(id: string | null | undefined): TaskState {
  const api = useHubApi();
  const { client } = useHub();
  const [task, setTask] = useState<Task | null>(null);
  const [loading, setLoading] = useState(Boolean(id));
  const [error, setError] = useState<HubError | null>(null);

  useEffect(() => {
    setTask(null);
    setError(null);
    if (!id) {
      setLoading(false);
      return;
    }
    let live = true;
    setLoading(true);
    const load = async () => {
      try {
        const t = await api.getTask(id);
        if (live) {
          setTask((prev) => newer(prev, t));
          setError(null);
        }
      } catch (err) {
        if (live) setError(asHubError(err));
      } finally {
        if (live) setLoading(false);
      }
    };
    const offs = client
      ? [
          client.on("task", (t) => {
            if (t.id === id) setTask((prev) => newer(prev, t));
          }),
          client.on("connected", () => void load()),
        ]
      : [];
    void load();
    return () => {
      live = false;
      offs.forEach((off) => off());
    };
  }, [api, client, id]);

  return { task, loading, error };
}

export interface TaskList {
  /** Newest first. */
  items: Task[];
  loading: boolean;
  error: HubError | null;
  loadMore: () => Promise<void>;
  hasMore: boolean;
}

/**
 * The user's tasks (optionally by `status` and `kind`), live: a REST page,
 * then `task_update` frames upserted by id (a task that leaves the status
 * filter leaves the list), refetched after every reconnect.
 */
export function useTasks(query: Omit<ListTasksQuery, "cursor" | "user_id"> = {}): TaskList {
  const api = useHubApi();
  const { client } = useHub();
  const { status, kind, limit = 50 } = query;
  const [items, setItems] = useState<Task[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<HubError | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const byId = useRef(new Map<string, Task>());
  const cursor = useRef<string | null>(null);
  const generation = useRef(0);

  const publish = useCallback(() => {
    setItems(
      [...byId.current.values()].sort((a, b) =>
        a.created_at === b.created_at
          ? a.id < b.id
            ? 1
            : -1
          : a.created_at < b.created_at
            ? 1
            : -1,
      ),
    );
  }, []);

  const fetchPage = useCallback(
    async (from: string | null) => {
      const gen = generation.current;
      try {
        const page = await api.listTasks({
          limit,
          ...(status ? { status } : {}),
          ...(kind ? { kind } : {}),
          ...(from ? { cursor: from } : {}),
        });
        if (gen !== generation.current) return;
        for (const t of page.items) byId.current.set(t.id, newer(byId.current.get(t.id), t));
        if (from !== null || cursor.current === null) {
          cursor.current = page.next_cursor ?? null;
          setHasMore(cursor.current !== null);
        }
        publish();
        setError(null);
      } catch (err) {
        if (gen === generation.current) setError(asHubError(err));
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [api, limit, status, kind, publish],
  );

  useEffect(() => {
    generation.current += 1;
    byId.current = new Map();
    cursor.current = null;
    setItems([]);
    setLoading(true);
    let first = true;
    const offs = client
      ? [
          client.on("task", (t) => {
            const fits = (!status || t.status === status) && (!kind || t.kind === kind);
            if (fits) byId.current.set(t.id, newer(byId.current.get(t.id), t));
            else byId.current.delete(t.id);
            publish();
          }),
          client.on("connected", () => {
            if (!first) void fetchPage(null);
          }),
        ]
      : [];
    void fetchPage(null).then(() => {
      first = false;
    });
    return () => offs.forEach((off) => off());
  }, [client, status, kind, fetchPage, publish]);

  const loadMore = useCallback(async () => {
    if (cursor.current) await fetchPage(cursor.current);
  }, [fetchPage]);

  return { items, loading, error, loadMore, hasMore };
}
