/**
 * UTF-8 → text as sluice decodes a line: invalid bytes become U+FFFD and are flagged. One owner,
 * since the agent decodes where a source needs strings and the transfer decodes the bytes of a
 * record whose line the agent sent as read (core/record_format.ts, format 2): both must make the
 * same text and the same flag of the same bytes.
 * @module
 */

const lenient = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8 and tells whether the input was valid. The strict decoder only runs when the
 * lenient one produced U+FFFD, so valid text costs one decode.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./utf8.ts";
 * decodeUtf8(new Uint8Array([0x61, 0xff])); // { text: "a\uFFFD", invalid: true }
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: boolean } {
  const text = lenient.decode(bytes);
  if (!text.includes("\uFFFD")) return { text, invalid: false };
  try {
    strict.decode(bytes);
    return { text, invalid: false };
  } catch {
    return { text, invalid: true };
  }
}
