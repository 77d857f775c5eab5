/**
 * Typed errors shared by every sluice command. Each carries the process exit code a CLI should
 * end with and a message that says what to do, so `runMain` can report it without a stack trace.
 * @module
 */

/** Process exit codes used by every sluice command (documented in README "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  InvalidInput: 2,
  Conflict: 3,
  Unreachable: 4,
} as const;
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** Base class: an error whose message is meant for the operator. */
export class SluiceError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = ExitCode.Failure, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad input from the user: a file, a flag, a field. Exit code 2. */
export class InvalidInputError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.InvalidInput, options);
  }
}

/** Someone else changed shared state first (e.g. the config head moved). Exit code 3. */
export class ConflictError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.Conflict, options);
  }
}

/** A service (etcd, Kafka, the search engine) could not be reached. Exit code 4. */
export class UnreachableError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.Unreachable, options);
  }
}

/**
 * A service answered but refused the connection: its TLS certificate is not trusted, or it
 * rejected the credentials. Exit code 4 like UnreachableError, but retrying cannot help: the
 * message names the settings to fix.
 */
export class SecurityError extends UnreachableError {}
