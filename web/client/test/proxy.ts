// A TCP proxy standing in for a load balancer in front of a cluster: each
// new connection goes to the first backend (in the current preference
// order) that accepts it, so a client whose node died lands on another one.

import { connect, createServer, type Server, type Socket } from "node:net";

export interface Proxy {
  url: string;
  /** Ports tried in this order for each new connection. */
  prefer(ports: number[]): void;
  close(): Promise<void>;
}

export async function startProxy(ports: number[]): Promise<Proxy> {
  let order = [...ports];
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.pause();
    const tryAt = (i: number) => {
      const port = order[i];
      if (port === undefined) {
        client.destroy();
        return;
      }
      const upstream = connect(port, "127.0.0.1");
      // Refused (the node is down): the next backend; the client never knows.
      upstream.once("error", () => {
        upstream.destroy();
        tryAt(i + 1);
      });
      upstream.once("connect", () => {
        open.add(upstream);
        upstream.removeAllListeners("error");
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
        upstream.on("close", () => {
          open.delete(upstream);
          client.destroy();
        });
        client.on("close", () => {
          open.delete(client);
          upstream.destroy();
        });
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryAt(0);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    prefer(ports: number[]) {
      order = [...ports];
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
