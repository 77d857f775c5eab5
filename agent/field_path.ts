/**
 * Where a named field lives in a line's parsed fields: the key itself (`status`), or a dotted path
 * into nested JSON objects (`http.status`) when no key has the whole name. Compiled once per
 * source; only own properties count, so `constructor` or `__proto__` never reach a prototype.
 * @module
 */

/** The object that holds a field and the field's key in it. */
export interface FieldSlot {
  holder: Record<string, unknown>;
  key: string;
}

/** Finds the slot of one field in parsed fields; undefined when the field is absent. */
export type FieldLocator = (fields: Record<string, unknown>) => FieldSlot | undefined;

const hasOwn = Object.hasOwn;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Compiles a field name into a locator. A key equal to the whole name wins over a dotted path,
 * so a regex group or JSON key that contains dots is still found.
 *
 * @example
 * ```ts
 * import { compileFieldPath } from "./field_path.ts";
 * const at = compileFieldPath("http.status");
 * const fields = { http: { status: "200" } };
 * const slot = at(fields)!;
 * slot.holder[slot.key]; // "200"
 * at({ "http.status": 404 })!.key; // "http.status"
 * at({ http: 1 }); // undefined
 * ```
 */
export function compileFieldPath(name: string): FieldLocator {
  const parts = name.split(".");
  if (parts.length === 1 || parts.some((p) => p === "")) {
    return (fields) => hasOwn(fields, name) ? { holder: fields, key: name } : undefined;
  }
  const last = parts.length - 1;
  return (fields) => {
    if (hasOwn(fields, name)) return { holder: fields, key: name };
    let holder = fields;
    for (let i = 0; i < last; i++) {
      const next = hasOwn(holder, parts[i]) ? holder[parts[i]] : undefined;
      if (!isObject(next)) return undefined;
      holder = next;
    }
    return hasOwn(holder, parts[last]) ? { holder, key: parts[last] } : undefined;
  };
}
