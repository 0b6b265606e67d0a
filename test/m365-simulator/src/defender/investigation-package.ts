import type { SimContext, SimRequest, SimResponse } from '../types';
import type { DefenderCall } from './call';
import { resourceNotFound } from './errors';
import { tenantState } from './machine-actions';
import { findAction } from './machine-action-routes';

/**
 * `GET /api/machineactions/{id}/GetPackageUri` (https://learn.microsoft.com/defender-endpoint/api/get-package-sas-uri):
 * 200 with `{"@odata.context": ".../$metadata#Edm.String", "value": "<link>"}` once the collection
 * action has completed, 404 while it exists but is not complete. The link "is valid for a short
 * time"; the sim makes it valid for 10 minutes of sim clock.
 *
 * Microsoft's link points at a separate download host (`userrequests-us.securitycenter.windows.com/
 * safedownload/...`); the sim serves the same path on its Defender host. The doc's sample value is
 * wrapped in literal double quotes; the sim returns the bare URL (see the report of the module).
 */

export const PACKAGE_LINK_TTL_MS = 10 * 60_000;
export const DOWNLOAD_PATH = '/safedownload/WDATP_Investigation_Package.zip';

export function getPackageUri(call: DefenderCall): SimResponse {
  const { req, state, nowMs } = call;
  const action = findAction(call, req.params.id);
  if (action.type !== 'CollectInvestigationPackage' || action.final?.status !== 'Succeeded') {
    throw resourceNotFound(req, `Investigation package for machine action ${action.id}`);
  }
  const token = call.ctx.newGuid();
  state.packageLinks.set(token, { actionId: action.id, expiresMs: nowMs + PACKAGE_LINK_TTL_MS });
  return {
    status: 200,
    body: {
      '@odata.context': `${req.baseUrl}/api/$metadata#Edm.String`,
      value: `${req.baseUrl}${DOWNLOAD_PATH}?token=${encodeURIComponent(token)}`,
    },
  };
}

/** An empty but valid ZIP archive: just the end-of-central-directory record. */
const EMPTY_ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);

/** The download itself: no bearer token, the link's token is the credential (like a SAS URL). */
export function downloadPackage(ctx: SimContext, req: SimRequest): SimResponse {
  const token = req.query.get('token') ?? '';
  for (const tenant of ctx.tenants.values()) {
    const link = tenantState(tenant).packageLinks.get(token);
    if (!link) continue;
    if (ctx.clock.nowMs() >= link.expiresMs) break;
    return {
      status: 200,
      headers: {
        'content-type': 'application/zip',
        'content-disposition': 'attachment; filename="WDATP_Investigation_Package.zip"',
      },
      body: EMPTY_ZIP,
    };
  }
  return {
    status: 403,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: 'AuthenticationFailed: the download link is invalid or has expired.',
  };
}
