// The shapes the client speaks: REST schemas come from the generated OpenAPI
// types; the WebSocket frames (which OpenAPI cannot describe) are written
// here once.

import type { components } from "./generated/openapi.js";

type Schemas = components["schemas"];

export type Activity = Schemas["Activity"];
export type ActivityType = Schemas["ActivityType"];
/** What a webhook can subscribe to: an activity type or a presence event. */
export type EventType = Schemas["EventType"];
export type Task = Schemas["Task"];
export type TaskStatus = Schemas["TaskStatus"];
export type TaskKind = Schemas["TaskKind"];
export type User = Schemas["User"];
export type TokenPair = Schemas["TokenPair"];
export type ErrorBody = Schemas["ErrorBody"];
export type FieldError = Schemas["FieldError"];
export type Webhook = Schemas["Webhook"];
export type CreatedWebhook = Schemas["CreatedWebhook"];
export type WebhookStatus = Schemas["WebhookStatus"];
export type WebhookSecret = Schemas["WebhookSecret"];
export type DeliveryLog = Schemas["DeliveryLog"];
export type DeliveryAttempt = Schemas["DeliveryAttempt"];
export type DeliveryStatus = Schemas["DeliveryStatus"];
export type WebhookTestResult = Schemas["TestResult"];
export type PortalSession = Schemas["PortalSession"];
export type PortalLink = Schemas["PortalLink"];

/** Every activity type the hub knows, in its order. */
export const ACTIVITY_TYPES: readonly ActivityType[] = [
  "prospect_added",
  "research_completed",
  "outreach_sent",
  "meeting_booked",
  "content_published",
  "task_completed",
  "automation_triggered",
  "notification",
];

/** Every event type a webhook can list: the activity types, then the two
 * presence events (sent only to webhooks that list them). */
export const EVENT_TYPES: readonly EventType[] = [
  ...ACTIVITY_TYPES,
  "presence.online",
  "presence.offline",
];

/** The first frame of every session, once the hub has registered it. */
export interface WelcomeFrame {
  type: "welcome";
  session_id: string;
  user_id: string;
  node_id: string;
  heartbeat_interval_ms: number;
  server_time: string;
}

export interface EventFrame {
  type: "event";
  id: string;
  event: ActivityType;
  data: Activity;
}

export interface TaskUpdateFrame {
  type: "task_update";
  task: Task;
}

export interface BroadcastFrame {
  type: "broadcast";
  data: Record<string, unknown>;
}

export interface ResumedFrame {
  type: "resumed";
  from: string;
  replayed: number;
  complete: boolean;
}

export interface PongFrame {
  type: "pong";
  timestamp: unknown;
}

export interface SubscribedFrame {
  type: "subscribed";
  events: ActivityType[];
}

/**
 * One attempt of a webhook delivery was recorded (sent to every session of
 * the endpoint's owner, portal sessions included). Not an activity: never
 * replayed on resume.
 */
export interface WebhookDeliveryFrame {
  type: "webhook_delivery";
  webhook_id: string;
  delivery_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempt: DeliveryAttempt;
}

export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
}

export type ServerFrame =
  | WelcomeFrame
  | EventFrame
  | TaskUpdateFrame
  | BroadcastFrame
  | ResumedFrame
  | PongFrame
  | SubscribedFrame
  | WebhookDeliveryFrame
  | ErrorFrame;

export type ClientFrame =
  | { type: "ping"; timestamp: number }
  | { type: "subscribe"; events: ActivityType[] }
  | { type: "resume"; last_event_id: string }
  | { type: "refresh"; token: string };

/** Where the client keeps what must survive a reload (localStorage fits). */
export interface StorageLike {
  get(key: string): string | null;
  set(key: string, value: string): void;
  /** Optional: used to forget a value (logout). */
  remove?(key: string): void;
}

/** Wraps a Web Storage object (`localStorage`) as a {@link StorageLike}. */
export function webStorage(storage: Storage): StorageLike {
  return {
    get: (key) => storage.getItem(key),
    set: (key, value) => storage.setItem(key, value),
    remove: (key) => storage.removeItem(key),
  };
}

/** A storage kept in memory (tests, or Node processes that need no persistence). */
export function memoryStorage(initial: Record<string, string> = {}): StorageLike & {
  readonly data: Map<string, string>;
} {
  const data = new Map(Object.entries(initial));
  return {
    data,
    get: (key) => data.get(key) ?? null,
    set: (key, value) => void data.set(key, value),
    remove: (key) => void data.delete(key),
  };
}

/**
 * Compares two event ids. The hub's ids are zero-padded decimal sequence
 * numbers, ordered per user; comparing by length first keeps the order right
 * even if the padding ever grows.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True for an id this hub could have issued (digits only). */
export function isEventId(id: unknown): id is string {
  return typeof id === "string" && /^[0-9]{1,32}$/.test(id);
}
