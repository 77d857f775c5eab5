/**
 * A backlog against the real Kafka: what the agent holds while it works one off is bounded. The
 * bytes a source has read but Kafka has not acknowledged never pass `max-inflight-bytes` plus one
 * read chunk (and the one partial line the splitter holds), whatever the size of the backlog, and
 * every line still arrives once, in order. This is the bound that keeps the agent's memory flat in
 * a backlog (docs/agent.md, "Back-pressure"; docs/BENCHMARKS.md has the peak RSS it gives).
 */
import { ok as assert } from "node:assert/strict";
import { assertExactlyOnce, rig, seqLines, test, waitFor } from "./agent_support.ts";

test("agent backlog: bytes read and not acknowledged stay under the in-flight bound", async () => {
  const r = await rig();
  const maxInflightBytes = 512 * 1024;
  const readChunkBytes = 64 * 1024;
  try {
    // ~30 MB: sixty times the bound.
    const total = 300_000;
    const path = `${r.dir}/backlog.log`;
    const file = await Deno.open(path, { write: true, create: true });
    for (let from = 0; from < total; from += 20_000) {
      await file.write(new TextEncoder().encode(seqLines("bk", from, from + 20_000, 60)));
    }
    file.close();
    const task = r.task({}, { maxInflightBytes, readChunkBytes });
    let worst = 0;
    let samples = 0;
    const value = async (counter: typeof r.metrics.bytesRead) =>
      (await counter.get()).values.find((v) => v.labels.source === "src")?.value ?? 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // Read first, then acknowledged: a chunk read between the two cannot make a sample
        // overstate what was in flight (an acknowledgement between them can only understate it).
        const read = await value(r.metrics.bytesRead);
        const acked = await value(r.metrics.bytesAcked);
        worst = Math.max(worst, read - acked);
        samples++;
        await new Promise((res) => setTimeout(res, 1));
      }
    })();
    await waitFor(`${total} lines`, () => r.collector.tagged("bk").length >= total, 120_000);
    sampling = false;
    await sampler;
    await task.stop();
    assertExactlyOnce(r.collector.envelopes, "bk", total);
    const bound = maxInflightBytes + readChunkBytes + 200; // one chunk past the bound, a line held
    assert(samples > 50, `${samples} samples`);
    assert(worst <= bound, `${worst} bytes in flight, more than ${bound}`);
    // The bound was reached: the test measured a backlog held back, not a trickle.
    assert(worst > maxInflightBytes / 2, `only ${worst} bytes in flight at most`);
  } finally {
    await r.cleanup();
  }
});
