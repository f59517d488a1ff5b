// Types of the web test harness (hub.mjs).

export declare const TEST_SECRET: string;
export declare const SERVICE_KEY: string;
export declare const PASSWORD: string;
export declare const REDIS_URL: string;

export declare function hubBinary(): string;
export declare function freePort(): Promise<number>;
export declare function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs?: number,
  everyMs?: number,
): Promise<NonNullable<T>>;
export declare function uniqueEmail(tag?: string): string;
export declare function mintAccessToken(
  userId: string,
  ttlSeconds?: number,
  claims?: Record<string, unknown>,
): string;
export declare function uniqueRedisPrefix(): string;
export declare function deleteRedisKeys(prefix: string): Promise<void>;

export interface TestUser {
  id: string;
  email: string;
  password: string;
  user: { id: string; email: string; full_name: string | null; created_at: string };
  accessToken: string;
  refreshToken: string;
}

export interface TokenPair {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  refresh_token: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RequestOptions {
  body?: unknown;
  /** A bearer token, or "service" for the test service key. */
  auth?: string;
  headers?: Record<string, string>;
}

export declare class Hub {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  readonly serviceKey: string;
  readonly logPath: string;
  env: Record<string, string>;
  readonly pid: number | null;
  readonly running: boolean;
  start(): Promise<this>;
  logs(): string;
  signal(name: NodeJS.Signals): void;
  waitExit(timeoutMs?: number): Promise<Exit>;
  kill9(): Promise<Exit>;
  sigterm(timeoutMs?: number): Promise<Exit>;
  stop(): void;
  cont(): void;
  restart(env?: Record<string, string>): Promise<this>;
  close(): Promise<void>;
  request(method: string, path: string, options?: RequestOptions): Promise<Response>;
  register(email?: string, password?: string, fullName?: string): Promise<TestUser["user"]>;
  login(email: string, password?: string): Promise<TokenPair>;
  user(tag?: string): Promise<TestUser>;
  publish(
    userId: string,
    activity?: Record<string, unknown>,
  ): Promise<Record<string, unknown> & { id: string; type: string }>;
  createTask(
    userId: string,
    task?: Record<string, unknown>,
  ): Promise<Record<string, unknown> & { id: string }>;
  updateTask(
    taskId: string,
    patch: Record<string, unknown>,
  ): Promise<Record<string, unknown> & { id: string }>;
  broadcast(body: Record<string, unknown>): Promise<unknown>;
}

export interface HubOptions {
  env?: Record<string, string>;
  port?: number;
  dataDir?: string;
  bin?: string;
  label?: string;
  /** Cluster mode on the local Redis with this key prefix. */
  redisPrefix?: string;
}

export declare function startHub(options?: HubOptions): Promise<Hub>;

export interface Cluster {
  nodes: Hub[];
  prefix: string;
  close(): Promise<void>;
}

export declare function startCluster(options?: {
  nodes?: number;
  env?: Record<string, string>;
  redisPrefix?: string;
}): Promise<Cluster>;
