import { expect, test } from "vitest";
import { backoff, seededRandom } from "../src/backoff.js";

test("full-jitter delays stay within [0, min(max, min·2^n)) for every attempt", () => {
  const random = seededRandom(42);
  const min = 500;
  const max = 20_000;
  for (let attempt = 0; attempt < 64; attempt += 1) {
    const cap = Math.min(max, min * 2 ** attempt);
    let highest = 0;
    for (let i = 0; i < 200; i += 1) {
      const d = backoff(attempt, min, max, random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(cap);
      highest = Math.max(highest, d);
    }
    // Jitter really spreads over the range, not just near zero.
    expect(highest).toBeGreaterThan(cap * 0.8);
  }
});

test("the cap doubles until it reaches the maximum", () => {
  const one = () => 0.999_999;
  expect(backoff(0, 500, 20_000, one)).toBeCloseTo(500, 0);
  expect(backoff(1, 500, 20_000, one)).toBeCloseTo(1_000, 0);
  expect(backoff(3, 500, 20_000, one)).toBeCloseTo(4_000, 0);
  expect(backoff(6, 500, 20_000, one)).toBeCloseTo(20_000, 0);
  expect(backoff(1_000_000, 500, 20_000, one)).toBeCloseTo(20_000, 0);
  expect(backoff(5, 500, 20_000, () => 0)).toBe(0);
});

test("a seeded random repeats its sequence and stays in [0, 1)", () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const c = seededRandom(8);
  const sa = Array.from({ length: 1000 }, a);
  expect(Array.from({ length: 1000 }, b)).toEqual(sa);
  expect(Array.from({ length: 1000 }, c)).not.toEqual(sa);
  for (const x of sa) {
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThan(1);
  }
});
