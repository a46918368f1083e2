import { IConstruct } from 'constructs';

/**
 * An error about one construct: the message starts with the construct path so a
 * user of a large app knows where to look.
 */
export function constructError(scope: IConstruct, message: string): Error {
  return new Error(`${scope.node.path}: ${message}`);
}

/** Quote a user-supplied value for an error message (JSON quoting shows whitespace). */
export function show(value: unknown): string {
  return JSON.stringify(value);
}

/** A character as Unicode names it in a message (`U+007F`). */
export function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
