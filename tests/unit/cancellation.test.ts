// An upstream attempt's cancellation: EventEmitter-shaped for undici's `signal` option, listeners
// run once, a late listener is never called, and the sleep the simulator waits with.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cancellation, sleepUnlessCancelled } from "../../lib/data-plane/providers/cancellation";
import { UpstreamFailure } from "../../lib/data-plane/providers/types";

class Watched extends Cancellation {
  watchedCount = 0;
  protected override watched(): void {
    this.watchedCount++;
  }
}

describe("Cancellation", () => {
  it("calls each listener once with the reason set, not removed ones, and tells the first listener's arrival once", () => {
    const cancellation = new Watched();
    const heard: string[] = [];
    const removed = () => heard.push("removed");
    cancellation.on("abort", () => heard.push(`a ${cancellation.reason?.message}`));
    cancellation.once("abort", removed);
    cancellation.once("abort", () => heard.push("b"));
    cancellation.removeListener("abort", removed);
    expect(cancellation.watchedCount).toBe(1);
    expect(cancellation.aborted).toBe(false);

    cancellation.cancel(new UpstreamFailure("timeout_total", "first"));
    cancellation.cancel(new UpstreamFailure("timeout_total", "second"));
    cancellation.on("abort", () => heard.push("late"));
    expect(heard).toEqual(["a first", "b"]);
    expect(cancellation.reason?.message).toBe("first");
  });

  it("sleeps the whole time unless cancelled, and then rejects at once with the reason", async () => {
    const quiet = new Cancellation();
    const began = performance.now();
    await sleepUnlessCancelled(30, quiet);
    expect(performance.now() - began).toBeGreaterThanOrEqual(29);

    const cancellation = new Cancellation();
    const sleeping = sleepUnlessCancelled(60_000, cancellation);
    setTimeout(() => cancellation.cancel(new UpstreamFailure("client_gone", "client went away")), 10);
    await expect(sleeping).rejects.toMatchObject({ reason: "client_gone", message: "client went away" });
    await expect(sleepUnlessCancelled(1, cancellation)).rejects.toMatchObject({ message: "client went away" });
  });
});

describe("Cancellation as undici's signal", () => {
  let server: http.Server;
  let url: string;
  const closedByClient: number[] = [];
  let hanging = 0;
  beforeAll(async () => {
    // Answers only /fast; anything else hangs until the client gives up.
    server = http.createServer((req, res) => {
      req.resume();
      if (req.url === "/fast") return res.end("ok");
      hanging++;
      res.on("close", () => closedByClient.push(Date.now()));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("aborts a request in flight with the cancellation's reason, and leaves no listener after a completed one", async () => {
    const done = new Cancellation();
    const response = await request(`${url}/fast`, { signal: done });
    expect(await response.body.text()).toBe("ok");
    await new Promise((resolve) => setImmediate(resolve)); // undici lets go when the body closes, a tick after its end
    const listeners = (done as unknown as { listeners: unknown[] | null }).listeners;
    expect(listeners ?? []).toHaveLength(0);

    const cancellation = new Cancellation();
    const pending = request(`${url}/hang`, { signal: cancellation });
    // Cancel once the server holds it, so there is a connection to close (bounded wait).
    for (let i = 0; i < 500 && hanging === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hanging).toBe(1);
    const cancelledAt = Date.now();
    cancellation.cancel(new UpstreamFailure("timeout_total", "no complete answer within 50 ms"));
    await expect(pending).rejects.toMatchObject({ message: "no complete answer within 50 ms" });
    for (let i = 0; i < 50 && closedByClient.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closedByClient).toHaveLength(1);
    expect(closedByClient[0]! - cancelledAt).toBeLessThan(500);
  });

  it("refuses to start a request whose cancellation already happened", async () => {
    const cancellation = new Cancellation();
    cancellation.cancel(new UpstreamFailure("timeout_total", "client went away"));
    await expect(request(`${url}/fast`, { signal: cancellation })).rejects.toMatchObject({ message: "client went away" });
  });
});
