import type { ServerResponse } from "node:http";

/**
 * Per-request data every Palisade package keeps on `res.locals.palisade`. Each package
 * adds its own fields through module augmentation of this interface.
 */
// biome-ignore lint/suspicious/noEmptyInterface: packages augment it.
export interface PalisadeLocals {}

declare global {
  namespace Express {
    interface Locals {
      palisade?: PalisadeLocals;
    }
  }
}

type WithLocals = ServerResponse & { locals?: Record<string, unknown> };

/**
 * The `res.locals.palisade` object, created on first use. Works on a bare `node:http`
 * response too (it creates `res.locals`).
 *
 * @example
 * palisadeLocals(res).cspNonce = nonce;
 */
export function palisadeLocals(res: ServerResponse): Partial<PalisadeLocals> & Record<string, unknown> {
  const holder = res as WithLocals;
  holder.locals ??= {};
  holder.locals.palisade ??= {};
  return holder.locals.palisade as Partial<PalisadeLocals> & Record<string, unknown>;
}
