// The delivery log's merge rules, without a browser: live attempts append to
// their delivery, unknown deliveries go on top, a status filter drops what no
// longer matches, and a late frame never rolls a newer status back.

import { describe, expect, test } from "vitest";
import {
  fieldMessage,
  markRetried,
  mergeDelivery,
  type DeliveryFrame,
} from "../src/webhooks/model";

const WH = "wh_1";

function frame(
  delivery: string,
  attempt: number,
  status: DeliveryFrame["status"],
  code: number | null = 500,
): DeliveryFrame {
  return {
    webhook_id: WH,
    delivery_id: delivery,
    event_type: "meeting_booked",
    status,
    attempt: {
      attempt,
      attempted_at: `2026-12-02T01:00:0${attempt}.000Z`,
      duration_ms: 12,
      status_code: code,
      error: null,
      response_body: null,
      next_attempt_at: status === "pending" ? `2026-12-02T01:00:1${attempt}.000Z` : null,
    },
  };
}

describe("mergeDelivery", () => {
  test("an unknown delivery becomes a row at the top; its next attempts append in order", () => {
    let log = mergeDelivery([], frame("msg_a", 1, "pending"), WH, "");
    log = mergeDelivery(log, frame("msg_b", 1, "succeeded", 200), WH, "");
    expect(log.map((d) => d.id)).toEqual(["msg_b", "msg_a"]);
    log = mergeDelivery(log, frame("msg_a", 2, "pending"), WH, "");
    log = mergeDelivery(log, frame("msg_a", 3, "failed"), WH, "");
    const a = log.find((d) => d.id === "msg_a")!;
    expect(a.attempts.map((x) => x.attempt)).toEqual([1, 2, 3]);
    expect(a).toMatchObject({ status: "failed", attempt_count: 3, next_attempt_at: null });
    expect(log.map((d) => d.id)).toEqual(["msg_b", "msg_a"]);
  });

  test("the same attempt twice is kept once, and a late frame does not roll the status back", () => {
    let log = mergeDelivery([], frame("msg_a", 2, "succeeded", 200), WH, "");
    log = mergeDelivery(log, frame("msg_a", 2, "succeeded", 200), WH, "");
    log = mergeDelivery(log, frame("msg_a", 1, "pending"), WH, "");
    const [a] = log;
    expect(a!.attempts.map((x) => x.attempt)).toEqual([1, 2]);
    expect(a!.status).toBe("succeeded");
    expect(a!.attempt_count).toBe(2);
  });

  test("other endpoints' frames change nothing; a filter drops rows that stop matching", () => {
    const log = mergeDelivery([], frame("msg_a", 1, "pending"), WH, "pending");
    expect(
      mergeDelivery(log, { ...frame("msg_x", 1, "pending"), webhook_id: "wh_2" }, WH, ""),
    ).toBe(log);
    expect(mergeDelivery(log, frame("msg_a", 2, "failed"), WH, "pending")).toEqual([]);
    expect(mergeDelivery([], frame("msg_c", 1, "succeeded", 200), WH, "failed")).toEqual([]);
  });
});

describe("markRetried", () => {
  test("a retry's answer sets pending, but not over an attempt that overtook it", () => {
    let log = mergeDelivery([], frame("msg_a", 1, "pending"), WH, "");
    log = mergeDelivery(log, frame("msg_a", 2, "failed"), WH, "");
    // The answer came first: pending until the attempt is seen.
    const queued = markRetried(log, "msg_a", 2, "2026-12-02T01:01:00.000Z");
    expect(queued[0]).toMatchObject({ status: "pending", attempt_count: 2 });
    expect(mergeDelivery(queued, frame("msg_a", 3, "succeeded", 200), WH, "")[0]).toMatchObject({
      status: "succeeded",
      attempt_count: 3,
    });
    // The attempt's frame came first: the late answer leaves it succeeded.
    const delivered = mergeDelivery(log, frame("msg_a", 3, "succeeded", 200), WH, "");
    expect(markRetried(delivered, "msg_a", 2, null)[0]).toMatchObject({
      status: "succeeded",
      attempt_count: 3,
    });
  });
});

describe("fieldMessage", () => {
  test("words the hub's field errors as sentences about the field", () => {
    const fields = [
      { field: "url", message: "10.0.0.1 is a private address, which webhooks may not reach" },
      { field: "events[1]", message: '"meeting" is not an activity type' },
    ];
    expect(fieldMessage(fields, "url")).toBe(
      "10.0.0.1 is a private address, which webhooks may not reach.",
    );
    expect(fieldMessage([{ field: "url", message: "must use http or https" }], "url")).toBe(
      "The URL must use http or https.",
    );
    expect(fieldMessage(fields, "events")).toBe('"meeting" is not an activity type.');
    expect(fieldMessage(fields, "description")).toBeNull();
  });
});
