/** Largest request body accepted (1 MiB); larger ⇒ 413 problem. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
