/**
 * How a failure reaches the user: CloudFormation shows the custom resource's failure reason
 * only while the whole response body fits 4,096 bytes ("Response object is too long"
 * otherwise). The body the provider framework sends holds the status, the stack, request,
 * physical and logical ids, and a reason made of this handler's message, a blank line,
 * `Logs: /aws/lambda/<function>` and the error's stack trace (aws-cdk-lib
 * custom-resources/lib/provider-framework/runtime: framework.js and cfn-response.js).
 * So a message names the first problems and their count, the log has them all, and the
 * error the handler throws carries no stack frames.
 */

/** How many problems a refusal names; the function's log has every one. */
export const NAMED_PROBLEMS = 3;

/**
 * The most bytes a failure message may take as JSON: with a 128-character stack name, a
 * 255-character logical id and a 64-character function name, the rest of the body takes
 * about 1,300 bytes.
 */
export const MAX_MESSAGE_JSON_BYTES = 2_600;

/** A refusal of `problems` (each a sentence naming its principal), then `closing`. */
export function refusalMessage(problems: string[], closing: string): string {
  if (problems.length <= NAMED_PROBLEMS) return `${problems.join(' ')} ${closing}`;
  console.error(`all ${problems.length} problems:\n${problems.join('\n')}`);
  return `${problems.length} problems; the first ${NAMED_PROBLEMS}: ${problems.slice(0, NAMED_PROBLEMS).join(' ')} `
    + `(the other ${problems.length - NAMED_PROBLEMS} are in this function's log.) ${closing}`;
}

/** `message` on one line, cut to `MAX_MESSAGE_JSON_BYTES` (the whole of it logged first). */
export function fitMessage(message: string): string {
  const line = message.replace(/\s*\n\s*/g, ' ');
  const size = (s: string) => Buffer.byteLength(JSON.stringify(s));
  if (size(line) <= MAX_MESSAGE_JSON_BYTES) return line;
  console.error(`the whole message: ${line}`);
  const tail = ' [cut: the whole message is in this function\'s log]';
  let lo = 0;
  let hi = line.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(line.slice(0, mid) + tail) <= MAX_MESSAGE_JSON_BYTES) lo = mid;
    else hi = mid - 1;
  }
  // never half of a surrogate pair
  const cut = /[\uD800-\uDBFF]$/.test(line.slice(0, lo)) ? lo - 1 : lo;
  return line.slice(0, cut) + tail;
}

/**
 * The error the Lambda entry point throws: `message`, fitted, with no stack frames (Lambda
 * sends the stack as the trace, and the provider framework appends it to the reason). The
 * original error's stack goes to the log.
 */
export function failure(message: string, cause: unknown): Error {
  if (cause instanceof Error && cause.stack) console.error(cause.stack);
  const error = new Error(fitMessage(message));
  error.stack = `Error: ${error.message}`;
  return error;
}
