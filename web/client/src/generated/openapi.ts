// Generated from the hub's /api/openapi.json by `npm run gen:api`
// (openapi-typescript). Do not edit by hand: regenerate.

export interface paths {
    "/api/activities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List activities, newest first. */
        get: operations["list_activities"];
        put?: never;
        /**
         * Publish an activity: stored durably, then pushed to the user's sessions.
         * @description Service keys may back-date it with `created_at` (imports, history,
         *     tests); analytics count it in the hour of that time. A user token that
         *     sends `created_at` gets 403 `service_key_required`.
         */
        post: operations["create_activity"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/activities/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One activity. */
        get: operations["get_activity"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/activities/bulk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import up to 1,000 activities of one user at once (service keys only).
         * @description All are stored in one atomic step, in the order given, or none is (any
         *     invalid item fails the whole request with 422 naming it, such as
         *     `activities[3].title`). Each is then pushed, counted and delivered exactly
         *     like a single create. `created_at` back-dates an item. `Idempotency-Key`
         *     is not supported here (422): an import retried after an unknown outcome
         *     should check what the user's activity list holds.
         */
        post: operations["bulk_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download activities or metrics as CSV, JSON or XLSX.
         * @description `data=activities`: the user's activities created in the period, in id
         *     order, streamed page by page (memory stays flat for any size). Named
         *     ranges use the same trailing windows as the summary; `start`/`end` are
         *     exact. `types` filters activity types. Columns: id, created_at, type,
         *     title, message, link, metadata (JSON text), user_id.
         *     `data=metrics`: the summary's numbers; `types` picks metrics. CSV: one row
         *     per bucket, a column per metric; JSON: the summary object; XLSX: sheets
         *     "Summary" and "Data points".
         *     CSV is RFC 4180 (CRLF, quoted fields) and text cells starting with
         *     `=`, `+`, `-`, `@`, tab or CR are prefixed with `'` so spreadsheets do not
         *     run them. XLSX has typed numbers and date cells (UTC).
         *     Served as an attachment (`Content-Disposition`).
         */
        get: operations["export_get"];
        put?: never;
        /**
         * The same download as `GET /api/analytics/export`, with the fields in a
         *     JSON body (`types` may be a list). Unknown fields are 422.
         */
        post: operations["export_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics/summary": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Analytics of a user over a period: totals, the previous period, change,
         *     average per bucket, trend, and a zero-filled series per metric.
         * @description Metrics: `prospects_added`, `prospects_analyzed` (research_completed),
         *     `research_tasks_completed` (task_completed with kind research),
         *     `outreach_sent`, `meetings_booked`, `content_published`,
         *     `automations_triggered`, `tasks_completed`, and `conversion_rate` =
         *     meetings_booked / outreach_sent as a fraction (0 when nothing was sent).
         *     Granularity: hour for `day`, day for `week`/`month`, week for `quarter`,
         *     month for `year`; for `start`/`end` by length (≤ 3 days hour, ≤ 45 days
         *     day, ≤ 200 days week, else month). `trend` compares with the previous
         *     period of as many buckets: `up` above +10 %, `down` below −10 %, else
         *     `stable` (0 → more is `up`); `change_pct` is null when the previous total
         *     is 0. Read from per-hour counters, never from raw activities.
         *
         *     `forecast=true` adds to each metric `forecast: {method, total, low, high,
         *     points: [{start, value, low, high}]}`: the next period of as many buckets,
         *     starting at `period_end`, each with its expected value and 80 %
         *     prediction interval, and the expected total with its interval. The model
         *     (Holt's linear trend, or Holt–Winters with a weekly season for daily
         *     buckets with three weeks of history) is fitted to the complete buckets of
         *     this period and the previous one; fewer than 4 non-empty buckets give
         *     `method: insufficient_data` with no points. `conversion_rate` is the ratio
         *     of the meetings and outreach forecasts. Values are never negative.
         */
        get: operations["summary"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Log in: the OAuth2 password form (`username` = e-mail) or JSON `{email, password}`. */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke the refresh-token family (this login). Access tokens simply expire. */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The logged-in user. */
        get: operations["me"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Trade a refresh token for a new pair. The old refresh token is spent; using
         *     it again revokes every token of its family.
         */
        post: operations["refresh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create an account. */
        post: operations["register"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's personal access tokens, oldest first (never their secrets). */
        get: operations["list_tokens"];
        put?: never;
        /**
         * Create a personal access token. The response is the only one that shows
         *     its secret.
         */
        post: operations["create_token"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a personal access token: it stops working at once, on every node. */
        delete: operations["revoke_token"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/broadcast": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a `broadcast` frame to every connected session (service keys only; not stored). */
        post: operations["broadcast"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/hooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Subscribe a URL to one event type: a new standard-format webhook. */
        post: operations["subscribe"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/hooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unsubscribe: deletes the webhook. */
        delete: operations["unsubscribe"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/hooks/sample": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Sample events for a trigger's setup, newest first, each exactly as a
         *     delivery's body carries it: the user's latest activities of the type, or
         *     one typical example (id `0`) when there are none yet.
         */
        get: operations["sample"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/portal/exchange": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Exchange a portal link's one-time token for a portal session. */
        post: operations["exchange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/portal/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a one-time portal link for a user (service keys only). */
        post: operations["create_session"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List tasks, newest first. */
        get: operations["list_tasks"];
        put?: never;
        /** Start tracking a task (status `queued`). */
        post: operations["create_task"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tasks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One task. */
        get: operations["get_task"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Move a task along: status, progress, message, ETA. Pushed to the user's
         *     sessions as a `task_update`; completing records a `task_completed` activity.
         */
        patch: operations["update_task"];
        trace?: never;
    };
    "/api/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the caller's webhooks, oldest first. */
        get: operations["list_webhooks"];
        put?: never;
        /**
         * Create a webhook endpoint. The response is the only one, besides
         *     `GET /api/webhooks/{id}/secret`, that shows its signing secret.
         */
        post: operations["create_webhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One webhook. */
        get: operations["get_webhook"];
        /** Replace a webhook's URL, events and description. */
        put: operations["replace_webhook"];
        post?: never;
        /** Delete a webhook with its deliveries log. Pending deliveries are dropped. */
        delete: operations["delete_webhook"];
        options?: never;
        head?: never;
        /** Change some of a webhook's URL, events and description. */
        patch: operations["patch_webhook"];
        trace?: never;
    };
    "/api/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The deliveries log, newest first: every delivery with every attempt. */
        get: operations["list_deliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/webhooks/{id}/deliveries/{delivery_id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Deliver again now, with a fresh retry schedule and the same `webhook-id`. */
        post: operations["retry_delivery"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/webhooks/{id}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Re-enable a disabled webhook and reset its failure count. Deliveries still
         *     pending from before it was disabled go out again.
         */
        post: operations["enable_webhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/webhooks/{id}/secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The webhook's signing secret. */
        get: operations["get_secret"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/webhooks/{id}/secret/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate the signing secret. For `webhooks.secret_rotation_overlap` (24 h by
         *     default) deliveries are signed with both the new and the old secret; read
         *     the new one with `GET /api/webhooks/{id}/secret`.
         */
        post: operations["rotate_secret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/webhooks/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a `webhook.test` event to the endpoint now and return the attempt. It
         *     appears in the deliveries log; it is not retried, and a failure does not
         *     count towards disabling the endpoint.
         */
        post: operations["test_webhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/ws": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Open the live feed (WebSocket). See the protocol in the README. */
        get: operations["connect"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/ws/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Session counts of this node and of the cluster (no user ids). */
        get: operations["status"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness. */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (text exposition format). */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: 200 when the store answers, else 503. */
        get: operations["ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description A stored activity. */
        Activity: {
            /** Format: date-time */
            created_at: string;
            /** @example 0000000000000000042 */
            id: string;
            link?: string | null;
            message?: string | null;
            /** @description Free-form JSON object. */
            metadata: Record<string, never>;
            title: string;
            type: components["schemas"]["ActivityType"];
            user_id: string;
        };
        ActivityPage: {
            items: components["schemas"]["Activity"][];
            next_cursor?: string | null;
        };
        /**
         * @description The kinds of activity the hub knows. Unknown kinds are rejected (422), so a
         *     typo in a worker never creates an event nobody subscribes to.
         * @enum {string}
         */
        ActivityType: "prospect_added" | "research_completed" | "outreach_sent" | "meeting_booked" | "content_published" | "task_completed" | "automation_triggered" | "notification";
        BroadcastRequest: {
            data?: Record<string, never> | null;
            message?: string | null;
            title: string;
        };
        /** @description `POST /api/activities/bulk`. */
        BulkCreate: {
            /** @description 1 to 1,000 activities, stored in this order. */
            activities: components["schemas"]["BulkItem"][];
            /** @description The user every activity belongs to. */
            user_id: string;
        };
        /** @description What a bulk import stored. */
        BulkCreated: {
            created: number;
            /** @description Ids of the stored activities, in the order given. */
            ids: string[];
        };
        /** @description One activity of a bulk import. */
        BulkItem: {
            /**
             * Format: date-time
             * @description As in a single create; default now.
             */
            created_at?: string | null;
            link?: string | null;
            message?: string | null;
            metadata?: Record<string, never> | null;
            title: string;
            type: components["schemas"]["ActivityType"];
        };
        CreateActivity: {
            /**
             * Format: date-time
             * @description Service keys only (a user token sending it gets 403): when the event
             *     happened, for imports and back-filled history. RFC 3339, kept to the
             *     millisecond, from 1970 up to 5 minutes ahead of the hub's clock;
             *     analytics count the activity in the hour of this time. Default: now.
             */
            created_at?: string | null;
            /** @description An http(s) URL or an absolute path in the app. */
            link?: string | null;
            message?: string | null;
            /** @description A JSON object. */
            metadata?: Record<string, never> | null;
            title: string;
            type: components["schemas"]["ActivityType"];
            /** @description Required with a service key (the user acted for); a user token may omit it or name only itself (403 otherwise). */
            user_id?: string | null;
        };
        CreatedToken: components["schemas"]["PersonalToken"] & {
            /** @description `hub_pat_` + 32 random bytes (base64url): shown this once, never again. */
            secret: string;
        };
        /** @description A new webhook, with the only copy of its secret besides `GET …/secret`. */
        CreatedWebhook: components["schemas"]["Webhook"] & {
            /** @description `whsec_` + base64 of 32 random bytes: the Standard Webhooks key. */
            secret: string;
        };
        CreatePortalSession: {
            /**
             * @description The portal may list and view endpoints and deliveries, but change
             *     nothing and read no secret. Default false.
             */
            read_only?: boolean | null;
            /**
             * Format: int32
             * @description How long the link, and the session it opens, last. Default 3600.
             */
            ttl_seconds?: number | null;
            /** @description Whose webhooks the portal manages. */
            user_id: string;
        };
        CreateTask: {
            kind: components["schemas"]["TaskKind"];
            metadata?: Record<string, never> | null;
            title: string;
            /** @description Required with a service key (the user acted for); a user token may omit it or name only itself (403 otherwise). */
            user_id?: string | null;
        };
        CreateToken: {
            /**
             * Format: int32
             * @description Days until it stops working (1–3650); without it, it works until revoked.
             */
            expires_in_days?: number | null;
            /** @description What the token is for, to recognise it in the list. */
            name: string;
            /** @description At least one of `read`, `write`, `webhooks`. */
            scopes: components["schemas"]["TokenScope"][];
        };
        CreateWebhook: {
            description?: string | null;
            /**
             * @description Event types to deliver; empty or absent means every activity type.
             *     `presence.online` and `presence.offline` arrive only when listed.
             */
            events?: components["schemas"]["EventType"][];
            format?: null | components["schemas"]["WebhookFormat"];
            /**
             * @description An http(s) URL on the public internet. Its form is the `pattern`; one
             *     of that form aimed at a loopback, private or otherwise non-public
             *     address is refused with 403 `target_not_allowed`.
             * @example https://hooks.example.com/aiclone
             */
            url: string;
            /** @description Required with a service key (the user acted for); a user token may omit it or name only itself (403 otherwise). */
            user_id?: string | null;
        };
        /** @description One bucket of a series. */
        DataPoint: {
            /**
             * Format: date-time
             * @description Start of the bucket (RFC 3339 UTC); it ends where the next one starts.
             */
            start: string;
            /**
             * Format: double
             * @description A count, or a fraction for `conversion_rate`.
             */
            value: number;
        };
        /** @description One attempt of a delivery, as the deliveries log shows it. */
        DeliveryAttempt: {
            /**
             * Format: int32
             * @description 1 for the first attempt of the delivery.
             */
            attempt: number;
            /** Format: date-time */
            attempted_at: string;
            /**
             * Format: int64
             * @description From sending the request to the end of reading the response head.
             */
            duration_ms: number;
            /** @description Why the attempt failed without a status (timeout, refused, blocked). */
            error?: string | null;
            /**
             * Format: date-time
             * @description When the next attempt is due, if this one scheduled one.
             */
            next_attempt_at?: string | null;
            /** @description The first KiB of the response body. */
            response_body?: string | null;
            /**
             * Format: int32
             * @description HTTP status, when the endpoint answered.
             */
            status_code?: number | null;
        };
        /** @description A delivery and every attempt made for it: one item of the deliveries log. */
        DeliveryLog: {
            /**
             * Format: int32
             * @description Number of attempts made.
             */
            attempt_count: number;
            /** @description Oldest first. */
            attempts: components["schemas"]["DeliveryAttempt"][];
            /**
             * @description The request body, in the endpoint's format (the stores return the
             *     stored envelope; the API renders it with the endpoint's format, the
             *     one its next attempt uses).
             */
            body: string;
            /** Format: date-time */
            created_at: string;
            event_type: string;
            /**
             * @description The delivery id, which is also the `webhook-id` header.
             * @example msg_0193c1d2e3f4
             */
            id: string;
            /** Format: date-time */
            next_attempt_at?: string | null;
            status: components["schemas"]["DeliveryStatus"];
            /** Format: date-time */
            updated_at: string;
        };
        DeliveryPage: {
            items: components["schemas"]["DeliveryLog"][];
            next_cursor?: string | null;
        };
        /**
         * @description Where a delivery is in its life.
         * @enum {string}
         */
        DeliveryStatus: "pending" | "succeeded" | "failed";
        /** @description The JSON body of every error response. */
        ErrorBody: {
            code: components["schemas"]["ErrorCode"];
            /** @description The invalid fields or parameters (`validation_failed` and `target_not_allowed`). */
            fields?: components["schemas"]["FieldError"][];
            /** @description Human sentence, for people. */
            message: string;
        };
        /**
         * @description Stable snake_case code, for programs. Each code has one status:
         *
         *     - `malformed_json` (400): The body is not valid JSON.
         *     - `malformed_body` (400): The body could not be read, or is not a valid form.
         *     - `websocket_handshake_failed` (400): The request to `/api/ws` is not a WebSocket upgrade.
         *     - `unauthenticated` (401): No credential, or one that is not valid.
         *     - `token_expired` (401): The access token has expired; refresh it.
         *     - `ambiguous_credentials` (401): A user token and a service key were both sent: send one.
         *     - `invalid_credentials` (401): Wrong e-mail or password.
         *     - `invalid_token` (401): The refresh token is not valid, expired or revoked.
         *     - `invalid_portal_token` (401): The portal link was already used, has expired, or was never issued.
         *     - `refresh_token_reused` (401): The refresh token was already used; its whole family is now revoked.
         *     - `forbidden` (403): A user token named another user.
         *     - `insufficient_scope` (403): A personal access token without the scope this route needs.
         *     - `user_id_required` (403): A service key acts for a user it names: `user_id` is missing.
         *     - `target_not_allowed` (403): The webhook URL aims at an address webhooks may not reach (loopback, private, link-local and similar), see `fields`.
         *     - `user_token_required` (403): The route acts on the caller's own account: a service key cannot call it.
         *     - `service_key_required` (403): Only service keys may do this.
         *     - `origin_not_allowed` (403): The browser `Origin` may not open WebSockets.
         *     - `portal_scope` (403): A portal session can only manage its user's webhooks.
         *     - `portal_read_only` (403): A read-only portal session can look, not change (nor read a secret).
         *     - `not_found` (404): No such route or resource.
         *     - `user_not_found` (404): No user has this id.
         *     - `activity_not_found` (404): No such activity of the caller's.
         *     - `task_not_found` (404): No such task of the caller's.
         *     - `webhook_not_found` (404): No such webhook of the caller's.
         *     - `token_not_found` (404): No such personal access token of the caller's.
         *     - `delivery_not_found` (404): No such delivery of this webhook.
         *     - `method_not_allowed` (405): The path exists but not with this method (see `Allow`).
         *     - `email_taken` (409): An account with this e-mail exists.
         *     - `idempotency_key_reused` (409): The `Idempotency-Key` was used with another body.
         *     - `invalid_transition` (409): The task cannot move to this status.
         *     - `progress_decreased` (409): Task progress cannot go down.
         *     - `task_changed` (409): The task kept changing concurrently; retry.
         *     - `webhook_limit` (409): The user has the maximum number of webhooks.
         *     - `token_limit` (409): The user has the maximum number of personal access tokens.
         *     - `webhook_disabled` (409): The webhook is disabled; enable it first.
         *     - `payload_too_large` (413): The body is larger than the limit.
         *     - `unsupported_media_type` (415): The body is not of a content type this route reads.
         *     - `validation_failed` (422): One or more fields or parameters are invalid (see `fields`).
         *     - `rate_limited` (429): Too many requests; retry after `Retry-After` seconds.
         *     - `internal_error` (500): The server failed; the cause is logged, never sent.
         *     - `store_unavailable` (503): The data store is unavailable; the request did nothing.
         *     - `write_unconfirmed` (503): The change was stored, but not yet confirmed by enough replicas of the store; it could be lost if the store fails over now.
         *     - `not_ready` (503): The store does not answer the readiness check.
         * @enum {string}
         */
        ErrorCode: "malformed_json" | "malformed_body" | "websocket_handshake_failed" | "unauthenticated" | "token_expired" | "ambiguous_credentials" | "invalid_credentials" | "invalid_token" | "invalid_portal_token" | "refresh_token_reused" | "forbidden" | "insufficient_scope" | "user_id_required" | "target_not_allowed" | "user_token_required" | "service_key_required" | "origin_not_allowed" | "portal_scope" | "portal_read_only" | "not_found" | "user_not_found" | "activity_not_found" | "task_not_found" | "webhook_not_found" | "token_not_found" | "delivery_not_found" | "method_not_allowed" | "email_taken" | "idempotency_key_reused" | "invalid_transition" | "progress_decreased" | "task_changed" | "webhook_limit" | "token_limit" | "webhook_disabled" | "payload_too_large" | "unsupported_media_type" | "validation_failed" | "rate_limited" | "internal_error" | "store_unavailable" | "write_unconfirmed" | "not_ready";
        /**
         * @description What an endpoint can subscribe to: every activity type, and the two
         *     presence events (a user's first session opened anywhere, the last one
         *     gone for a while). Presence events are not activities: they are never
         *     stored in history or counted, only delivered to endpoints that list them.
         * @enum {string}
         */
        EventType: "prospect_added" | "research_completed" | "outreach_sent" | "meeting_booked" | "content_published" | "task_completed" | "automation_triggered" | "notification" | "presence.online" | "presence.offline";
        ExchangePortalToken: {
            /** @description The token from the link's fragment. */
            token: string;
        };
        /** @description The body of `POST /api/analytics/export`: the fields of the GET query. */
        ExportBody: {
            /** @description `activities` or `metrics`. */
            data: string;
            /** Format: date-time */
            end?: string | null;
            /** @description `csv`, `json` or `xlsx`. */
            format: string;
            /** Format: date-time */
            start?: string | null;
            time_range?: string | null;
            /** @description `["outreach_sent", "meeting_booked"]` or `"outreach_sent,meeting_booked"`. */
            types?: ("prospect_added" | "research_completed" | "outreach_sent" | "meeting_booked" | "content_published" | "task_completed" | "automation_triggered" | "notification" | "prospects_added" | "prospects_analyzed" | "research_tasks_completed" | "meetings_booked" | "automations_triggered" | "tasks_completed" | "conversion_rate")[] | null;
            tz?: string | null;
            user_id?: string | null;
        };
        /** @description One invalid field of a request. */
        FieldError: {
            /** @description Path of the field, such as `email` or `metadata.owner`. */
            field: string;
            message: string;
        };
        /** @description One bucket of a forecast. */
        ForecastPoint: {
            /**
             * Format: double
             * @description Upper end of the 80 % prediction interval.
             */
            high: number;
            /**
             * Format: double
             * @description Lower end of the 80 % prediction interval (at least 0).
             */
            low: number;
            /**
             * Format: date-time
             * @description Start of the bucket (RFC 3339 UTC); it ends where the next one starts.
             */
            start: string;
            /**
             * Format: double
             * @description The expected value (a fraction for `conversion_rate`), never negative.
             */
            value: number;
        };
        /**
         * @description The size of one bucket (one data point).
         * @enum {string}
         */
        Granularity: "hour" | "day" | "week" | "month";
        Health: {
            /** @description `embedded` or `cluster`. */
            mode: string;
            node_id: string;
            /** @example ok */
            status: string;
            version: string;
        };
        /** @description The OAuth2 password form, as FastAPI's `OAuth2PasswordRequestForm` takes it. */
        LoginForm: {
            client_id?: string | null;
            client_secret?: string | null;
            /** @description `password` if given. */
            grant_type?: string | null;
            password: string;
            scope?: string | null;
            /** @description The e-mail address. */
            username: string;
        };
        LoginJson: {
            email: string;
            password: string;
        };
        /**
         * @description How a forecast was made.
         * @enum {string}
         */
        Method: "holt_linear" | "holt_winters_additive" | "ratio_of_forecasts" | "insufficient_data";
        /**
         * @description The forecast of a metric for the next period: as many buckets as the
         *     period, of the same granularity, starting at `period_end`.
         */
        MetricForecast: {
            /**
             * Format: double
             * @description Upper end of the total's 80 % prediction interval.
             */
            high?: number | null;
            /**
             * Format: double
             * @description Lower end of the total's 80 % prediction interval.
             */
            low?: number | null;
            /**
             * @description `holt_linear`, `holt_winters_additive` (weekly season, daily buckets),
             *     `ratio_of_forecasts` (`conversion_rate`), or `insufficient_data`
             *     (fewer than 4 non-empty buckets of history: no points, null totals).
             */
            method: components["schemas"]["Method"];
            /** @description One per bucket of the next period, oldest first; empty for `insufficient_data`. */
            points: components["schemas"]["ForecastPoint"][];
            /**
             * Format: double
             * @description The expected total of the next period (for `conversion_rate`: its rate).
             */
            total?: number | null;
        };
        /** @description One metric of a summary. */
        MetricSummary: {
            /**
             * Format: double
             * @description Mean per bucket over every bucket of the period.
             */
            average: number;
            /**
             * Format: double
             * @description `(total − previous_total) / previous_total × 100`; null when the
             *     previous total is 0.
             */
            change_pct?: number | null;
            /** @description One per bucket, oldest first, zero-filled. */
            data_points: components["schemas"]["DataPoint"][];
            forecast?: null | components["schemas"]["MetricForecast"];
            /** @description `prospects_added`, …, `conversion_rate`. */
            metric: string;
            /**
             * Format: double
             * @description The same over the previous period of as many buckets.
             */
            previous_total: number;
            /**
             * Format: double
             * @description Over the whole period (for `conversion_rate`: the period's rate).
             */
            total: number;
            trend: components["schemas"]["Trend"];
        };
        /** @description `PATCH`: only the fields given change (`description: null` clears it). */
        PatchWebhook: {
            description?: string | null;
            events?: components["schemas"]["EventType"][] | null;
            format?: null | components["schemas"]["WebhookFormat"];
            url?: string | null;
        };
        /** @description A personal access token as its owner sees it (never the secret). */
        PersonalToken: {
            /** Format: date-time */
            created_at: string;
            /**
             * Format: date-time
             * @description It stops working then; `null`: never.
             */
            expires_at?: string | null;
            /** @example pat_0193c1d2e3f4 */
            id: string;
            /**
             * Format: date-time
             * @description Its last use, to the minute; `null`: never used.
             */
            last_used_at?: string | null;
            name: string;
            scopes: components["schemas"]["TokenScope"][];
        };
        PortalLink: {
            /** Format: date-time */
            expires_at: string;
            /** @description `…/portal#token=hub_portal_…`: works once. */
            url: string;
        };
        PortalSession: {
            /**
             * @description A bearer token for `/api/webhooks/**` and the WebSocket (which then
             *     carries `webhook_delivery` frames only).
             */
            access_token: string;
            /** Format: date-time */
            expires_at: string;
            /**
             * Format: int64
             * @description Seconds until the session ends.
             */
            expires_in: number;
            read_only: boolean;
            /** @description Always `bearer`. */
            token_type: string;
            user_id: string;
        };
        RefreshRequest: {
            refresh_token: string;
        };
        RegisterRequest: {
            /** @example ada@example.com */
            email: string;
            full_name?: string | null;
            /**
             * @description 8 to 1024 characters.
             * @example correct horse battery staple
             */
            password: string;
        };
        /** @description `PUT`: the new configuration, whole (an absent description clears it). */
        ReplaceWebhook: {
            description?: string | null;
            events?: components["schemas"]["EventType"][];
            format?: null | components["schemas"]["WebhookFormat"];
            url: string;
        };
        RetryQueued: {
            delivery_id: string;
            /** Format: date-time */
            next_attempt_at?: string | null;
            status: components["schemas"]["DeliveryStatus"];
        };
        SecretRotated: {
            /**
             * Format: date-time
             * @description Until then deliveries carry two signatures: the new secret's and the old one's.
             */
            previous_secret_expires_at: string;
        };
        Subscribe: {
            /**
             * @description The one event type this subscription delivers: an activity type, or
             *     `presence.online` / `presence.offline`.
             */
            event: components["schemas"]["EventType"];
            /**
             * @description Where the events go (the URL Zapier gives as `targetUrl`).
             * @example https://hooks.zapier.com/hooks/standard/1/abc/
             */
            target_url: string;
        };
        Subscription: {
            event: components["schemas"]["EventType"];
            /**
             * @description The webhook's id: keep it to unsubscribe.
             * @example wh_0193c1d2e3f4
             */
            id: string;
            target_url: string;
        };
        /** @description `GET /api/analytics/summary`. */
        Summary: {
            granularity: components["schemas"]["Granularity"];
            metrics: components["schemas"]["MetricSummary"][];
            /**
             * Format: date-time
             * @description Exclusive; the end of the newest bucket (in the future for named ranges).
             */
            period_end: string;
            /** Format: date-time */
            period_start: string;
            /** @description `day`, `week`, `month`, `quarter`, `year`, or `custom` for `start`/`end`. */
            time_range: string;
            user_id: string;
        };
        /** @description A task as stored and as shown. */
        Task: {
            /** Format: date-time */
            created_at: string;
            /** Format: int64 */
            eta_seconds?: number | null;
            /** Format: date-time */
            finished_at?: string | null;
            id: string;
            kind: components["schemas"]["TaskKind"];
            message?: string | null;
            metadata: Record<string, never>;
            /**
             * Format: int32
             * @description 0–100, never decreasing.
             */
            progress: number;
            /** Format: date-time */
            started_at?: string | null;
            status: components["schemas"]["TaskStatus"];
            title: string;
            /** Format: date-time */
            updated_at: string;
            user_id: string;
        };
        /**
         * @description Kinds of long-running work.
         * @enum {string}
         */
        TaskKind: "research" | "outreach" | "content" | "automation";
        TaskPage: {
            items: components["schemas"]["Task"][];
            next_cursor?: string | null;
        };
        /**
         * @description Where a task is in its life.
         * @enum {string}
         */
        TaskStatus: "queued" | "running" | "completed" | "failed" | "cancelled";
        TestResult: {
            attempt: components["schemas"]["DeliveryAttempt"];
            /** @description The `webhook-id` of the test delivery. */
            delivery_id: string;
            event_type: string;
            /** @description True when the endpoint answered 2xx within the timeout. */
            succeeded: boolean;
        };
        TokenList: {
            items: components["schemas"]["PersonalToken"][];
        };
        TokenPair: {
            access_token: string;
            /**
             * Format: int64
             * @description Seconds until the access token expires.
             * @example 1800
             */
            expires_in: number;
            refresh_token: string;
            /** @example bearer */
            token_type: string;
        };
        /**
         * @description What a personal access token may do.
         * @enum {string}
         */
        TokenScope: "read" | "write" | "webhooks";
        /**
         * @description Where a metric is heading compared with the previous period.
         * @enum {string}
         */
        Trend: "up" | "down" | "stable";
        UpdateTask: {
            /**
             * Format: int64
             * @description Seconds left; estimated from the progress rate when omitted.
             */
            eta_seconds?: number | null;
            message?: string | null;
            /**
             * Format: int32
             * @description 0–100; never lower than the current value.
             */
            progress?: number | null;
            status?: null | components["schemas"]["TaskStatus"];
        };
        /** @description A user as every API response shows it (never with the password hash). */
        User: {
            /** Format: date-time */
            created_at: string;
            email: string;
            full_name?: string | null;
            /** @example usr_0193c1d2e3f4 */
            id: string;
        };
        UserEnvelope: {
            user: components["schemas"]["User"];
        };
        /** @description A webhook endpoint as every API response shows it (never with its secret). */
        Webhook: {
            /**
             * Format: int32
             * @description Failed attempts since the last success; the endpoint is disabled when
             *     this reaches `webhooks.max_consecutive_failures`.
             */
            consecutive_failures: number;
            /** Format: date-time */
            created_at: string;
            description?: string | null;
            /** @description Why the hub disabled the endpoint (410, too many failures). */
            disabled_reason?: string | null;
            /**
             * @description Event types delivered; empty means every activity type (presence
             *     events only when listed).
             */
            events: components["schemas"]["EventType"][];
            /** @description The body it receives; `standard` unless set. */
            format?: components["schemas"]["WebhookFormat"];
            /** @example wh_0193c1d2e3f4 */
            id: string;
            /**
             * Format: date-time
             * @description When the last attempt finished.
             */
            last_delivery_at?: string | null;
            /**
             * Format: int32
             * @description HTTP status of the last attempt, if it got one.
             */
            last_status_code?: number | null;
            status: components["schemas"]["WebhookStatus"];
            /** Format: date-time */
            updated_at: string;
            /** @description Where deliveries are POSTed (http or https). */
            url: string;
            user_id: string;
        };
        /**
         * @description The body an endpoint receives: the signed Standard Webhooks envelope, or
         *     a Slack or Discord incoming-webhook message (unsigned: their URL is the
         *     secret), built from the same envelope at each attempt.
         * @enum {string}
         */
        WebhookFormat: "standard" | "slack" | "discord";
        WebhookList: {
            items: components["schemas"]["Webhook"][];
            /** @description Always null: a user's webhooks fit in one page. */
            next_cursor?: string | null;
        };
        WebhookSecret: {
            /**
             * Format: date-time
             * @description While set, the previous secret still signs too (after a rotation).
             */
            previous_secret_expires_at?: string | null;
            secret: string;
        };
        /**
         * @description Whether an endpoint receives deliveries.
         * @enum {string}
         */
        WebhookStatus: "active" | "disabled";
        WsStatus: {
            cluster_sessions: number;
            cluster_users_online: number;
            node_id: string;
            node_sessions: number;
            your_sessions: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    list_activities: {
        parameters: {
            query?: {
                /** @description `next_cursor` of the previous page (an opaque token of this list). */
                cursor?: string;
                /** @description 1–200, default 50. */
                limit?: number;
                /** @description RFC 3339; inclusive. */
                since?: string;
                /** @description Only this activity type. */
                type?: components["schemas"]["ActivityType"];
                /** @description RFC 3339; exclusive. */
                until?: string;
                /** @description Required with a service key: whose activities. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ActivityPage"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    create_activity: {
        parameters: {
            query?: never;
            header?: {
                /** @description Retries with the same key return the first activity (24 h). 1 to 255 visible ASCII characters. */
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateActivity"];
            };
        };
        responses: {
            /** @description Stored */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Activity"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description created_at sent with a user token, or another user's user_id. Codes: `portal_scope`, `insufficient_scope`, `forbidden`, `user_id_required`, `service_key_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "forbidden" | "user_id_required" | "service_key_required";
                    };
                };
            };
            /** @description Unknown user_id. Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description Idempotency key reused with another body. Codes: `idempotency_key_reused`. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "idempotency_key_reused";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    get_activity: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Activity id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The activity */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Activity"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope";
                    };
                };
            };
            /** @description No such activity of yours. Codes: `activity_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "activity_not_found";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    bulk_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BulkCreate"];
            };
        };
        responses: {
            /** @description All stored */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BulkCreated"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description Not a service key. Codes: `user_id_required`, `service_key_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_id_required" | "service_key_required";
                    };
                };
            };
            /** @description Unknown user_id. Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields, or 0 or more than 1,000 activities. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    export_get: {
        parameters: {
            query: {
                /** @description `activities` or `metrics` (required). */
                data: string;
                /** @description RFC 3339, exclusive, with `start`. */
                end?: string;
                /** @description `csv`, `json` or `xlsx` (required). */
                format: string;
                /**
                 * @description RFC 3339, with `end` (one without the other is 422); `end` after it,
                 *     at most 1,830 days later.
                 */
                start?: string;
                /** @description As in the summary; default `month`. */
                time_range?: string;
                /**
                 * @description Comma-separated: activity types for `activities`, metric names for
                 *     `metrics`. Default: all.
                 */
                types?: string;
                /** @description IANA zone of the buckets (and of named ranges); another name is 422. Default `UTC`. */
                tz?: string;
                /** @description Required with a service key: whose data. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file (text/csv, application/json or XLSX) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description A user token naming another user. Codes: `portal_scope`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description Missing or unknown format, data, types, time_range or tz. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    export_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ExportBody"];
            };
        };
        responses: {
            /** @description The file (text/csv, application/json or XLSX) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description A user token naming another user. Codes: `portal_scope`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Unknown field, missing or unknown format, data, types, time_range or tz. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    summary: {
        parameters: {
            query?: {
                /** @description RFC 3339, exclusive, with `start`. */
                end?: string;
                /**
                 * @description `true` adds each metric's `forecast` of the next period (same
                 *     length and granularity) with 80 % prediction intervals. Default `false`.
                 */
                forecast?: boolean;
                /**
                 * @description RFC 3339, with `end` (one without the other is 422): a custom range,
                 *     widened to whole buckets. `end` must be after `start`, at most 1,830
                 *     days (five years) later.
                 */
                start?: string;
                /**
                 * @description `day` (24 hourly buckets), `week` (7 days), `month` (30 days, the
                 *     default), `quarter` (13 weeks from Monday) or `year` (12 months):
                 *     trailing windows ending with the bucket that holds now. Not with `start`/`end`.
                 */
                time_range?: string;
                /**
                 * @description IANA zone (such as `America/New_York`; another name is 422) whose hours, midnights,
                 *     Mondays and months bound the buckets. Default `UTC`.
                 */
                tz?: string;
                /** @description Required with a service key: whose numbers. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The summary */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Summary"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description A user token naming another user. Codes: `portal_scope`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description Unknown user_id (service keys). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description Unknown time_range or tz, bad start/end, forecast not true/false. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginJson"];
                "application/x-www-form-urlencoded": components["schemas"]["LoginForm"];
            };
        };
        responses: {
            /** @description Logged in */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPair"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description Wrong e-mail or password. Codes: `invalid_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "invalid_credentials";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshRequest"];
            };
        };
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description Not a valid refresh token. Codes: `invalid_token`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "invalid_token";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    me: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description Not authenticated. Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `user_token_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "user_token_required";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    refresh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshRequest"];
            };
        };
        responses: {
            /** @description New pair */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPair"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description Invalid, expired, revoked or reused. Codes: `invalid_token`, `refresh_token_reused`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "invalid_token" | "refresh_token_reused";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    register: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterRequest"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserEnvelope"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description E-mail taken. Codes: `email_taken`. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "email_taken";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    list_tokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tokens */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenList"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `user_token_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "user_token_required";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    create_token: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateToken"];
            };
        };
        responses: {
            /** @description Created, with its secret (shown once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedToken"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `user_token_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "user_token_required";
                    };
                };
            };
            /** @description The user has the maximum number of tokens. Codes: `token_limit`. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "token_limit";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    revoke_token: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Token id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `user_token_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "user_token_required";
                    };
                };
            };
            /** @description No such token of yours. Codes: `token_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "token_not_found";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    broadcast: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BroadcastRequest"];
            };
        };
        responses: {
            /** @description Handed to every node */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description Not a service key. Codes: `service_key_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "service_key_required";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    subscribe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Subscribe"];
            };
        };
        responses: {
            /** @description Subscribed */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Subscription"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `user_token_required`, `target_not_allowed`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "user_token_required" | "target_not_allowed";
                    };
                };
            };
            /** @description The user has the maximum number of webhooks. Codes: `webhook_limit`. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "webhook_limit";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    unsubscribe: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The subscription's (webhook's) id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unsubscribed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `user_token_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "user_token_required";
                    };
                };
            };
            /** @description No such subscription of yours. Codes: `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "webhook_not_found";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    sample: {
        parameters: {
            query: {
                /** @description The event type of the trigger. */
                event: components["schemas"]["EventType"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A list of sample events */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>[];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `user_token_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "user_token_required";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    exchange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ExchangePortalToken"];
            };
        };
        responses: {
            /** @description The session */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PortalSession"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description Unknown, used or expired link (`invalid_portal_token`). Codes: `invalid_portal_token`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "invalid_portal_token";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid body. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    create_session: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreatePortalSession"];
            };
        };
        responses: {
            /** @description The link */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PortalLink"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No or bad credentials. Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description Not a service key. Codes: `user_id_required`, `service_key_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_id_required" | "service_key_required";
                    };
                };
            };
            /** @description No such user (`user_not_found`). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid body. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    list_tasks: {
        parameters: {
            query?: {
                /** @description `next_cursor` of the previous page (an opaque token of this list). */
                cursor?: string;
                kind?: components["schemas"]["TaskKind"];
                /** @description 1–200, default 50. */
                limit?: number;
                status?: components["schemas"]["TaskStatus"];
                /** @description Required with a service key: whose tasks. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskPage"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    create_task: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTask"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    get_task: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Task id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope";
                    };
                };
            };
            /** @description No such task of yours. Codes: `task_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "task_not_found";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    update_task: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Task id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateTask"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope";
                    };
                };
            };
            /** @description No such task of yours. Codes: `task_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "task_not_found";
                    };
                };
            };
            /** @description Invalid transition or progress going down. Codes: `invalid_transition`, `progress_decreased`, `task_changed`. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "invalid_transition" | "progress_decreased" | "task_changed";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    list_webhooks: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every webhook of the user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookList"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    create_webhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateWebhook"];
            };
        };
        responses: {
            /** @description Created, with its secret */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedWebhook"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`, `target_not_allowed`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required" | "target_not_allowed";
                    };
                };
            };
            /** @description Not found (another user's resources are not found either). Codes: `user_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found";
                    };
                };
            };
            /** @description The user has the maximum number of webhooks. Codes: `webhook_limit`. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "webhook_limit";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description A URL not of the accepted form, or an unknown event type. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    get_webhook: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The webhook */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Webhook"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    replace_webhook: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReplaceWebhook"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Webhook"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`, `target_not_allowed`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required" | "target_not_allowed";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    delete_webhook: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    patch_webhook: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PatchWebhook"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Webhook"];
                };
            };
            /** @description The body is not valid JSON or could not be read. Codes: `malformed_json`, `malformed_body`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "malformed_json" | "malformed_body";
                    };
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`, `target_not_allowed`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required" | "target_not_allowed";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description The body is larger than the limit (256 KiB by default). Codes: `payload_too_large`. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description The body is not of a content type this operation reads. Codes: `unsupported_media_type`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Invalid fields. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    list_deliveries: {
        parameters: {
            query?: {
                /** @description `next_cursor` of the previous page (an opaque token of this list). */
                cursor?: string;
                /** @description 1–200, default 50. */
                limit?: number;
                /** @description Only deliveries in this state. */
                status?: components["schemas"]["DeliveryStatus"];
                /** @description Required with a service key: whose webhook. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeliveryPage"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    retry_delivery: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Delivery id (the webhook-id header) */
                delivery_id: string;
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Queued */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RetryQueued"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook or delivery of yours. Codes: `user_not_found`, `webhook_not_found`, `delivery_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found" | "delivery_not_found";
                    };
                };
            };
            /** @description The webhook is disabled; enable it first. Codes: `webhook_disabled`. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "webhook_disabled";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    enable_webhook: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Active again */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Webhook"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    get_secret: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The current secret */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookSecret"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    rotate_secret: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Rotated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SecretRotated"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    test_webhook: {
        parameters: {
            query?: {
                /** @description Required with a service key: the user acted for. A user token may omit it or name only itself (403 otherwise). */
                user_id?: string;
            };
            header?: never;
            path: {
                /** @description Webhook id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The attempt (whatever the endpoint answered) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TestResult"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_read_only`, `insufficient_scope`, `forbidden`, `user_id_required`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_read_only" | "insufficient_scope" | "forbidden" | "user_id_required";
                    };
                };
            };
            /** @description No such webhook of yours. Codes: `user_not_found`, `webhook_not_found`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "user_not_found" | "webhook_not_found";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`, `write_unconfirmed`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable" | "write_unconfirmed";
                    };
                };
            };
        };
    };
    connect: {
        parameters: {
            query?: {
                /** @description Comma-separated activity types to receive (default: all). */
                events?: string;
                /** @description Resume after this event id. */
                last_event_id?: string;
                /** @description Access token, for browsers that cannot set headers. Never logged. */
                token?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Switching protocols */
            101: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The body is not valid JSON or could not be read. Codes: `websocket_handshake_failed`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "websocket_handshake_failed";
                    };
                };
            };
            /** @description No or bad token; no upgrade. Codes: `unauthenticated`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated";
                    };
                };
            };
            /** @description Origin not allowed. Codes: `origin_not_allowed`, `insufficient_scope`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "origin_not_allowed" | "insufficient_scope";
                    };
                };
            };
            /** @description Invalid fields or parameters (unknown ones included), named in `fields`. Codes: `validation_failed`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "validation_failed";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    status: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Counts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WsStatus"];
                };
            };
            /** @description No valid credential (with two, both must be valid and name the same caller). Codes: `unauthenticated`, `token_expired`, `ambiguous_credentials`. */
            401: {
                headers: {
                    /** @description Always `Bearer` */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "unauthenticated" | "token_expired" | "ambiguous_credentials";
                    };
                };
            };
            /** @description The caller may not do this. Codes: `portal_scope`, `insufficient_scope`. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "portal_scope" | "insufficient_scope";
                    };
                };
            };
            /** @description Rate limited; retry after `Retry-After` seconds. Codes: `rate_limited`. */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "rate_limited";
                    };
                };
            };
            /** @description A dependency is down (`store_unavailable`: the request did nothing) or a change could not be confirmed by enough replicas of the store (`write_unconfirmed`: it was stored, but could be lost in a failover). Codes: `store_unavailable`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "store_unavailable";
                    };
                };
            };
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": unknown;
                };
            };
        };
    };
    ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A dependency is down. Codes: `not_ready`. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"] & {
                        /** @enum {string} */
                        code?: "not_ready";
                    };
                };
            };
        };
    };
}
