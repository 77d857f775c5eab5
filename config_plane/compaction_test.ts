import { ok as assert } from "node:assert/strict";
import { isCompactionError } from "./compaction.ts";

Deno.test("isCompactionError recognizes both ways etcd3 reports a compacted revision", () => {
  // Copied from etcd 3.4.23 through etcd3 1.1.2: a range at a compacted revision...
  assert(
    isCompactionError(
      new Error("11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted"),
    ),
  );
  // ...and a watch started at one (cancelled with an empty reason).
  assert(isCompactionError(new Error("Watcher canceled: ")));
});

Deno.test("isCompactionError leaves other failures alone", () => {
  assert(!isCompactionError(new Error("14 UNAVAILABLE: No connection established")));
  assert(!isCompactionError(new Error("Watcher canceled: permission denied")));
  assert(!isCompactionError(undefined));
  assert(!isCompactionError("GRPC watch stream has timed out."));
});
