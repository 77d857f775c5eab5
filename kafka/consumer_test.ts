import { equal } from "node:assert/strict";
import { rejoinAfterTimeout } from "./consumer.ts";

Deno.test("a timed-out request to the coordinator or a leader means joining again afresh", () => {
  for (
    const api of ["Fetch", "Heartbeat", "OffsetCommit", "OffsetFetch", "SyncGroup", "LeaveGroup"]
  ) {
    equal(rejoinAfterTimeout(api), true, api);
  }
  // JoinGroup waits for the other members by design (its own, longer timeout); the others are
  // asked of whichever broker answers.
  for (const api of ["Produce", "Metadata", "ListOffsets", "JoinGroup", "ApiVersions"]) {
    equal(rejoinAfterTimeout(api), false, api);
  }
});
