import { equal } from "node:assert/strict";
import { coordinatorGone } from "./consumer.ts";

Deno.test("a timed-out request to the group coordinator means finding the coordinator again", () => {
  for (const api of ["Heartbeat", "OffsetCommit", "OffsetFetch", "SyncGroup", "LeaveGroup"]) {
    equal(coordinatorGone(api), true, api);
  }
  // Partition leaders are found again through metadata; JoinGroup waits for the other members
  // by design (its own, longer timeout).
  for (const api of ["Fetch", "Produce", "Metadata", "ListOffsets", "JoinGroup", "ApiVersions"]) {
    equal(coordinatorGone(api), false, api);
  }
});
