import type { FastifyReply } from 'fastify';
import type { HttpResult } from './idempotency';

/** Applies a create route's status and headers (Location, Idempotent-Replayed, a replayed problem's type). */
export async function reply(r: FastifyReply, result: Promise<HttpResult>): Promise<unknown> {
  const { status, headers, body } = await result;
  r.status(status);
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'content-type') r.type(value);
    else r.header(name, value);
  }
  return body;
}

/** `Prefer: wait=N` (RFC 7240), capped at 60 seconds. */
export function waitSeconds(prefer: string | undefined): number | undefined {
  const match = prefer ? /(?:^|[,;\s])wait=(\d+)/i.exec(prefer) : null;
  return match ? Math.min(60, Number(match[1])) : undefined;
}
