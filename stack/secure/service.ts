/**
 * What each service of the secure stack tells stack/secure/stack.ts: its ports, how it is
 * prepared, started and asked whether it answers (over TLS, as the sluice user), and what it
 * needs once it runs (etcd: users, roles and auth turned on).
 * @module
 */
import type { Progress, ServiceName } from "../service.ts";
import type { CertificatePaths } from "./certs.ts";
import type { CredentialFiles } from "./credentials.ts";

/** Everything a secure service's hooks need. */
export interface SecureContext {
  /** `.stack/secure`. */
  root: string;
  /** `.stack/secure/<name>`. */
  dir: string;
  certs: CertificatePaths;
  credentials: CredentialFiles;
  progress: Progress;
}

export interface SecureServiceDefinition {
  name: ServiceName;
  /** The address clients use (shown in the status table). */
  address: string;
  /** Every port it binds on 127.0.0.1 (checked before it starts). */
  ports: number[];
  /** Installs or resolves what is missing and writes config files. */
  prepare(ctx: SecureContext): Promise<void>;
  /** The command that runs it in the foreground. */
  command(ctx: SecureContext): Promise<string[]>;
  /** Resolves with its version once it answers as a client will use it; throws otherwise. */
  probe(ctx: SecureContext): Promise<string>;
  /** Runs once it answers, before it counts as started (idempotent). */
  afterStart?(ctx: SecureContext): Promise<void>;
  startTimeoutMs: number;
  stopGraceMs: number;
}
