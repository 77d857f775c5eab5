/**
 * The config plane of sluice: versioned config events in etcd (append with compare-and-swap,
 * fold, plan, history, watch), config changes (apply, rollback, import: change.ts), the agents
 * registry, and logagent import.
 * @module
 */
export type * from "./types.ts";
export { EMPTY_STATE, foldEvents, foldOps, normalizeState } from "./fold.ts";
export {
  canonicalJson,
  DEFAULT_MAX_LINE_BYTES,
  matchesHost,
  resolveSource,
  sourcesForHost,
  specHash,
} from "./source.ts";
export {
  diffFields,
  type FieldChange,
  formatPlan,
  opsForPlan,
  type Plan,
  planChanges,
  type SourceChange,
} from "./plan.ts";
export {
  hostFromLogagentKey,
  importLogagent,
  type ImportOptions,
  LOGAGENT_FORMATS,
  type LogagentFormat,
} from "./import_logagent.ts";
export { logagentOpsFromText, readLogagentOps } from "./logagent_values.ts";
export { type AgentConvergence, type FleetStatus, fleetStatus } from "./fleet.ts";
export { isCompactionError } from "./compaction.ts";
export {
  appendEvent,
  type AppendInput,
  type AppendResult,
  changeId,
  type ChangeKind,
  commitChange,
  type CommitInput,
  type CommittedChange,
  conflictMessage,
  FieldErrors,
  planApply,
  planImport,
  type PlannedChange,
  planRollback,
  type RevisionSummary,
  summarizeChange,
  summarizeRevision,
} from "./change.ts";
export {
  ETCD_MAX_REQUEST_BYTES,
  EventStore,
  type EventStoreOptions,
  type Snapshot,
} from "./event_store.ts";
export { ConfigPlane, type ConfigPlaneOptions, openConfigPlane } from "./plane.ts";
export { foldRunnable, runnableEvents } from "./runnable_state.ts";
export type { WatchPosition, WatchStateOptions } from "./watch.ts";
export type { AgentRegistration } from "./agents.ts";
export {
  formatIssues,
  validateAgentStatus,
  validateEvent,
  validateSource,
  validateState,
  type ValidationIssue,
  type ValidationResult,
} from "../schemas/validate.ts";
