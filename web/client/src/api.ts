// HubApi: the hub's REST API, typed from its OpenAPI document (see
// generated/openapi.ts, regenerated with `npm run gen:api`) and called
// through openapi-fetch. Every failure becomes a HubError.

import createClient, { type Client, type Middleware } from "openapi-fetch";
import { errorFromResponse, HubError, networkError } from "./errors.js";
import type { operations, paths } from "./generated/openapi.js";
import type { GetToken } from "./client.js";

type QueryOf<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type JsonBody<Op> = Op extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

export type ListActivitiesQuery = QueryOf<operations["list_activities"]>;
export type ListTasksQuery = QueryOf<operations["list_tasks"]>;
export type CreateActivityBody = JsonBody<operations["create_activity"]>;
export type CreateTaskBody = JsonBody<operations["create_task"]>;
export type UpdateTaskBody = JsonBody<operations["update_task"]>;
export type CreateWebhookBody = JsonBody<operations["create_webhook"]>;
export type PatchWebhookBody = JsonBody<operations["patch_webhook"]>;
export type ListDeliveriesQuery = QueryOf<operations["list_deliveries"]>;

export interface HubApiOptions {
  /** The hub's base URL, such as `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Supplies the bearer token of each request (a session's getToken). */
  getToken?: GetToken;
  /** A fixed bearer token (a personal access token, a service key). */
  token?: string;
  /** fetch implementation (defaults to the global). */
  fetch?: typeof fetch;
}

/** The result shape of an openapi-fetch call. */
interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export class HubApi {
  /** The typed openapi-fetch client, for every operation of the document. */
  readonly client: Client<paths>;
  readonly baseUrl: string;

  constructor(options: HubApiOptions) {
    try {
      new URL(options.baseUrl);
    } catch {
      throw new TypeError(`baseUrl ${JSON.stringify(options.baseUrl)} is not an absolute URL`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const fetchFn = options.fetch;
    this.client = createClient<paths>({
      baseUrl: this.baseUrl,
      // Late-bound, so a test (or a polyfill) replacing the global still counts.
      fetch: (request: Request) => (fetchFn ?? globalThis.fetch)(request),
    });
    const getToken: GetToken | undefined =
      options.getToken ?? (options.token ? () => options.token as string : undefined);
    if (getToken) this.client.use(authMiddleware(getToken));
  }

  /**
   * Resolves with the body of a successful call, or rejects with a
   * HubError (status 0 when the hub could not be reached).
   */
  async unwrap<T>(pending: Promise<Result<T>>): Promise<T> {
    let result: Result<T>;
    try {
      result = await pending;
    } catch (err) {
      if (err instanceof HubError) throw err;
      throw networkError(err, this.baseUrl);
    }
    if (!result.response.ok) throw errorFromResponse(result.response, result.error);
    return result.data as T;
  }

  /** The logged-in user. */
  me() {
    return this.unwrap(this.client.GET("/api/auth/me"));
  }

  /** One page of activities, newest first. */
  listActivities(query: ListActivitiesQuery = {}) {
    return this.unwrap(this.client.GET("/api/activities", { params: { query } }));
  }

  getActivity(id: string) {
    return this.unwrap(this.client.GET("/api/activities/{id}", { params: { path: { id } } }));
  }

  /** Publishes an activity; `idempotencyKey` makes a retry return the same one. */
  createActivity(body: CreateActivityBody, idempotencyKey?: string) {
    return this.unwrap(
      this.client.POST("/api/activities", {
        body,
        params: { header: idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {} },
      }),
    );
  }

  listTasks(query: ListTasksQuery = {}) {
    return this.unwrap(this.client.GET("/api/tasks", { params: { query } }));
  }

  getTask(id: string) {
    return this.unwrap(this.client.GET("/api/tasks/{id}", { params: { path: { id } } }));
  }

  createTask(body: CreateTaskBody) {
    return this.unwrap(this.client.POST("/api/tasks", { body }));
  }

  updateTask(id: string, body: UpdateTaskBody) {
    return this.unwrap(this.client.PATCH("/api/tasks/{id}", { params: { path: { id } }, body }));
  }

  /** The caller's webhook endpoints, oldest first. */
  listWebhooks() {
    return this.unwrap(this.client.GET("/api/webhooks"));
  }

  getWebhook(id: string) {
    return this.unwrap(this.client.GET("/api/webhooks/{id}", { params: { path: { id } } }));
  }

  /** Creates an endpoint; the answer is the only one besides getWebhookSecret with its secret. */
  createWebhook(body: CreateWebhookBody) {
    return this.unwrap(this.client.POST("/api/webhooks", { body }));
  }

  /** Changes only the fields given. */
  updateWebhook(id: string, body: PatchWebhookBody) {
    return this.unwrap(this.client.PATCH("/api/webhooks/{id}", { params: { path: { id } }, body }));
  }

  deleteWebhook(id: string) {
    return this.unwrap(this.client.DELETE("/api/webhooks/{id}", { params: { path: { id } } }));
  }

  /** The current signing secret (and, after a rotation, until when the old one still signs). */
  getWebhookSecret(id: string) {
    return this.unwrap(this.client.GET("/api/webhooks/{id}/secret", { params: { path: { id } } }));
  }

  /** A new secret; the previous one keeps signing too until the time answered. */
  rotateWebhookSecret(id: string) {
    return this.unwrap(
      this.client.POST("/api/webhooks/{id}/secret/rotate", { params: { path: { id } } }),
    );
  }

  /** Re-enables a disabled endpoint and resets its failure count. */
  enableWebhook(id: string) {
    return this.unwrap(this.client.POST("/api/webhooks/{id}/enable", { params: { path: { id } } }));
  }

  /** Sends a `webhook.test` event now and answers with the attempt. */
  testWebhook(id: string) {
    return this.unwrap(this.client.POST("/api/webhooks/{id}/test", { params: { path: { id } } }));
  }

  /** One page of an endpoint's deliveries log, newest first, each with its attempts. */
  listDeliveries(id: string, query: ListDeliveriesQuery = {}) {
    return this.unwrap(
      this.client.GET("/api/webhooks/{id}/deliveries", { params: { path: { id }, query } }),
    );
  }

  /** Queues one delivery again now, with the same `webhook-id`. */
  retryDelivery(id: string, deliveryId: string) {
    return this.unwrap(
      this.client.POST("/api/webhooks/{id}/deliveries/{delivery_id}/retry", {
        params: { path: { id, delivery_id: deliveryId } },
      }),
    );
  }

  /**
   * Exchanges a portal link's one-time token (`/portal#token=…`) for a
   * portal session: a bearer token for the user's webhooks only, until the
   * link's expiry. Needs no credential; a used or expired token is a 401.
   */
  exchangePortalToken(token: string) {
    return this.unwrap(this.client.POST("/api/portal/exchange", { body: { token } }));
  }

  /** Session counts of the node and the cluster. */
  wsStatus() {
    return this.unwrap(this.client.GET("/api/ws/status"));
  }
}

/** Adds `Authorization: Bearer <token>` unless the caller set a credential. */
function authMiddleware(getToken: GetToken): Middleware {
  return {
    async onRequest({ request }) {
      if (request.headers.has("authorization") || request.headers.has("x-api-key")) return;
      let token: string;
      try {
        token = await getToken({ forceRefresh: false });
      } catch (err) {
        if (err instanceof HubError) throw err;
        throw new HubError({
          status: 401,
          code: "unauthorized",
          message: `No access token: ${err instanceof Error ? err.message : String(err)}`,
          cause: err,
        });
      }
      request.headers.set("authorization", `Bearer ${token}`);
      return request;
    },
  };
}
