/**
 * The one input validator every route uses: zod schemas through
 * `@hono/zod-validator`, answering 400 with the zod message on failure.
 *
 * @module
 */

import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";

/**
 * Validates one request part.
 * @param target `query`, `param`, `json`, …
 * @param schema the zod schema.
 * @returns hono middleware; a bad request throws HTTPException 400 whose
 * message is the zod message.
 * @example
 * ```ts
 * app.get("/book", validate("query", z.object({ depth: z.coerce.number() })), (c) => c.json(c.req.valid("query")));
 * ```
 */
export function validate<
  T extends z.ZodType,
  K extends keyof ValidationTargets,
>(
  target: K,
  schema: T,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      throw new HTTPException(400, { message: z.prettifyError(result.error) });
    }
  });
}

/** A replay session id (`r1`): the path's `{id}` and the stream's `session`. */
export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
