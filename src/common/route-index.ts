import FindMyWay from 'find-my-way';

/**
 * Every route the app serves, indexed by method, so a request that matches a path under another
 * method is answered 405 with `Allow` instead of 404. Filled from Fastify's `onRoute` hook.
 */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
let router = FindMyWay({ ignoreTrailingSlash: true });

export function indexRoute(method: string | string[], url: string): void {
  for (const m of Array.isArray(method) ? method : [method]) {
    if ((METHODS as readonly string[]).includes(m) && !router.hasRoute(m as never, url)) router.on(m as never, url, () => undefined);
  }
}

export function resetRouteIndex(): void {
  router = FindMyWay({ ignoreTrailingSlash: true });
}

export function allowedMethods(method: string, url: string): string[] {
  const path = url.split('?')[0];
  return METHODS.filter((m) => m !== method && router.find(m as never, path) !== null);
}
