// The Batches page's and the overview tile's shaping: progress, waiting age, and "—" (never a made-up 0)
// when the queue could not be read.
import { describe, expect, it } from "vitest";
import { batchProgress, formatAge, progressText, queueTileText } from "../../lib/control-plane/console/batch-views";

describe("batch views", () => {
  it("counts completed and failed lines as progress, and has none before the total is known", () => {
    expect(batchProgress({ total: 200, completed: 90, failed: 10 })).toBe(0.5);
    expect(batchProgress({ total: 0, completed: 0, failed: 0 })).toBeNull();
    expect(progressText({ total: 20_000, completed: 1_200, failed: 34 })).toBe("1,234 of 20,000 (6%)");
    expect(progressText({ total: 0, completed: 0, failed: 0 })).toBe("—");
  });

  it("prints the oldest job's wait, and a dash when nothing waits", () => {
    expect(formatAge(null)).toBe("—");
    expect(formatAge(12.4)).toBe("12 s");
    expect(formatAge(600)).toBe("10 min");
    expect(formatAge(12_600)).toBe("3.5 h");
  });

  it("shows the queue tile's count, a real 0 as 0, and a dash when the queue could not be read", () => {
    expect(queueTileText({ queued: 20_000, running: 8, oldestQueuedAgeSeconds: 3 })).toBe("20,000");
    expect(queueTileText({ queued: 0, running: 0, oldestQueuedAgeSeconds: null })).toBe("0");
    expect(queueTileText({ error: 'relation "batch_jobs" does not exist' })).toBe("—");
    expect(queueTileText(undefined)).toBe("—");
  });
});
