// @aiclone/hub-client: the AI Clone Hub's browser and Node client.

export {
  HubClient,
  CLIENT_CLOSE,
  webSocketUrl,
  type HubClientOptions,
  type HubClientEvents,
  type HubClientStats,
  type HubState,
  type GetToken,
  type GetTokenContext,
  type WebSocketConstructor,
  type DisconnectedEvent,
  type ReconnectingEvent,
} from "./client.js";
export {
  HubApi,
  type HubApiOptions,
  type ListActivitiesQuery,
  type ListTasksQuery,
  type CreateActivityBody,
  type CreateTaskBody,
  type UpdateTaskBody,
  type CreateWebhookBody,
  type PatchWebhookBody,
  type ListDeliveriesQuery,
} from "./api.js";
export {
  createSession,
  restoreSession,
  register,
  Session,
  type SessionOptions,
  type SessionEvents,
  type RegisterOptions,
} from "./session.js";
export { HubError, type HubErrorInit } from "./errors.js";
export { backoff, seededRandom } from "./backoff.js";
export { decodeJwt, tokenExpiry, type TokenClaims } from "./jwt.js";
export {
  ACTIVITY_TYPES,
  EVENT_TYPES,
  compareIds,
  isEventId,
  memoryStorage,
  webStorage,
  type Activity,
  type ActivityType,
  type EventType,
  type Task,
  type TaskKind,
  type TaskStatus,
  type User,
  type TokenPair,
  type ErrorBody,
  type FieldError,
  type Webhook,
  type CreatedWebhook,
  type WebhookStatus,
  type WebhookSecret,
  type DeliveryLog,
  type DeliveryAttempt,
  type DeliveryStatus,
  type WebhookTestResult,
  type PortalSession,
  type PortalLink,
  type StorageLike,
  type ServerFrame,
  type ClientFrame,
  type WelcomeFrame,
  type WebhookDeliveryFrame,
} from "./types.js";
export type { paths, components, operations } from "./generated/openapi.js";
