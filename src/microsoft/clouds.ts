import type { MicrosoftEndpoints } from '../config/config';

/**
 * The national-cloud host matrix (microsoft-notes §0.1, §1.1): one row per cloud, and every Microsoft call of
 * a tenant uses its cloud's row. Tokens from one cloud are never valid in another (microsoft-notes M21).
 */

export const CLOUD_NAMES = ['global', 'usgov-gcc', 'usgov-gcchigh', 'usgov-dod', 'china'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

/** The APIs Cordon gets tokens for; `login` is Entra ID itself. */
export type MicrosoftResource = 'graph' | 'manage' | 'defender';
export const MICROSOFT_RESOURCES: readonly MicrosoftResource[] = ['graph', 'manage', 'defender'];
/** The resource apps Cordon asks permissions of: their appId, the same in every tenant and cloud. */
export const RESOURCE_APP_IDS: Record<MicrosoftResource, string> = {
  graph: '00000003-0000-0000-c000-000000000000',
  manage: 'c5393580-f805-4401-95e8-94b7a6ef2fc2',
  defender: 'fc780465-2017-40d4-a0c5-307022471b92',
};

interface CloudHosts {
  login: string;
  graph: string;
  manage: string;
  /** The Defender for Endpoint API host, which is also the token audience (microsoft-notes §5.1); null where there is none. */
  defender: string | null;
  /** Other Defender hosts a response may point to (geo hosts, the XDR host; microsoft-notes §0.2). */
  defenderAliases: string[];
}

const DEFENDER_GLOBAL_ALIASES = [
  'api.security.microsoft.com',
  ...['us', 'eu', 'uk', 'au', 'swa', 'ina'].map((geo) => `${geo}.api.security.microsoft.com`),
  // Older regional names still seen in the wild (microsoft-notes §0.2, [peer]).
  ...['us', 'eu', 'uk'].map((geo) => `api-${geo}.securitycenter.microsoft.com`),
];

const HOSTS: Record<CloudName, CloudHosts> = {
  global: {
    login: 'login.microsoftonline.com',
    graph: 'graph.microsoft.com',
    manage: 'manage.office.com',
    // MDE wants tokens for api.securitycenter.microsoft.com, whichever host is called (microsoft-notes §1.1, M16).
    defender: 'api.securitycenter.microsoft.com',
    defenderAliases: DEFENDER_GLOBAL_ALIASES,
  },
  // GCC keeps worldwide login and Graph, but has its own Management and Defender hosts (microsoft-notes M21).
  'usgov-gcc': {
    login: 'login.microsoftonline.com',
    graph: 'graph.microsoft.com',
    manage: 'manage-gcc.office.com',
    defender: 'api-gcc.securitycenter.microsoft.us',
    defenderAliases: [],
  },
  'usgov-gcchigh': {
    login: 'login.microsoftonline.us',
    graph: 'graph.microsoft.us',
    manage: 'manage.office365.us',
    defender: 'api-gov.securitycenter.microsoft.us',
    defenderAliases: [],
  },
  'usgov-dod': {
    login: 'login.microsoftonline.us',
    graph: 'dod-graph.microsoft.us',
    manage: 'manage.protection.apps.mil',
    defender: 'api-gov.securitycenter.microsoft.us',
    defenderAliases: [],
  },
  // 21Vianet: MSAL knows login.chinacloudapi.cn (alias login.partner.microsoftonline.cn); no MDE API is documented.
  china: {
    login: 'login.chinacloudapi.cn',
    graph: 'microsoftgraph.chinacloudapi.cn',
    manage: 'manage.office365.cn',
    defender: null,
    defenderAliases: [],
  },
};

/** One cloud's row, as base URLs (`https://host[:port]`, no trailing slash). */
export interface CloudEndpoints {
  cloud: CloudName;
  login: string;
  graph: string;
  manage: string;
  defender: string | null;
  /** Token scope per resource: `{resource App ID URI}/.default` (microsoft-notes §1.1); null where the cloud lacks it. */
  scopes: Record<MicrosoftResource, string | null>;
}

export function isCloudName(value: unknown): value is CloudName {
  return typeof value === 'string' && (CLOUD_NAMES as readonly string[]).includes(value);
}

/**
 * The endpoint table in use: the real clouds, or — with `CORDON_MICROSOFT_ENDPOINTS` — every cloud
 * pointed at the same base URLs (the simulator, which accepts `<base URL>/.default` as a scope).
 */
export class Clouds {
  private readonly rows: Record<CloudName, CloudEndpoints>;
  private readonly allowed: Record<CloudName, Record<MicrosoftResource, ReadonlySet<string>>>;
  /** True when the endpoints point at a stand-in (the simulator) rather than Microsoft. */
  readonly overridden: boolean;

  constructor(override?: MicrosoftEndpoints) {
    this.overridden = override !== undefined;
    this.rows = {} as Record<CloudName, CloudEndpoints>;
    this.allowed = {} as Record<CloudName, Record<MicrosoftResource, ReadonlySet<string>>>;
    for (const cloud of CLOUD_NAMES) {
      const hosts = HOSTS[cloud];
      const base = override ?? {
        login: `https://${hosts.login}`,
        graph: `https://${hosts.graph}`,
        manage: `https://${hosts.manage}`,
        defender: hosts.defender ? `https://${hosts.defender}` : null,
      };
      const scope = (url: string | null) => (url ? `${url}/.default` : null);
      this.rows[cloud] = {
        cloud,
        login: base.login,
        graph: base.graph,
        manage: base.manage,
        defender: base.defender,
        scopes: { graph: scope(base.graph), manage: scope(base.manage), defender: scope(base.defender) },
      };
      const hostOf = (url: string | null) => (url ? [hostAndPort(new URL(url))] : []);
      const aliases = override ? [] : hosts.defenderAliases.map((h) => `${h}:443`);
      this.allowed[cloud] = {
        graph: new Set(hostOf(base.graph)),
        manage: new Set(hostOf(base.manage)),
        defender: new Set([...hostOf(base.defender), ...aliases]),
      };
    }
  }

  endpoints(cloud: CloudName): CloudEndpoints {
    const row = this.rows[cloud];
    if (!row) throw new Error(`unknown Microsoft cloud "${String(cloud)}"; use one of ${CLOUD_NAMES.join(', ')}`);
    return row;
  }

  /** Base URL of a resource's API in a cloud; throws when the cloud has none (Defender in China). */
  baseUrl(cloud: CloudName, resource: MicrosoftResource): string {
    const url = this.endpoints(cloud)[resource];
    if (!url) throw new UnsupportedInCloudError(cloud, resource);
    return url;
  }

  scope(cloud: CloudName, resource: MicrosoftResource): string {
    const scope = this.endpoints(cloud).scopes[resource];
    if (!scope) throw new UnsupportedInCloudError(cloud, resource);
    return scope;
  }

  /** `host:port` of every host a token for this resource may be sent to; all resources when omitted. */
  allowedHosts(cloud: CloudName, resource?: MicrosoftResource): ReadonlySet<string> {
    const perResource = this.allowed[cloud];
    if (!perResource) throw new Error(`unknown Microsoft cloud "${String(cloud)}"`);
    if (resource) return perResource[resource];
    return new Set(MICROSOFT_RESOURCES.flatMap((r) => [...perResource[r]]));
  }

  /**
   * The follow-URL rule: a URL taken from a response (`NextPageUri`, `@odata.nextLink`, a content URI)
   * is only requested when it is https and on the tenant cloud's host list — else a token would go
   * where it does not belong (docs/ARCHITECTURE.md §9 and §17).
   */
  assertFollowable(cloud: CloudName, url: string | URL, resource?: MicrosoftResource): URL {
    let parsed: URL;
    try {
      parsed = typeof url === 'string' ? new URL(url) : url;
    } catch {
      throw new ForeignHostError(cloud, '(not a URL)', 'it is not an absolute URL');
    }
    if (parsed.protocol !== 'https:') throw new ForeignHostError(cloud, hostAndPort(parsed), 'it is not https');
    if (parsed.username || parsed.password) throw new ForeignHostError(cloud, hostAndPort(parsed), 'it carries credentials');
    const host = hostAndPort(parsed);
    if (!this.allowedHosts(cloud, resource).has(host)) {
      throw new ForeignHostError(cloud, host, `it is not a ${resource ?? 'Microsoft'} host of the ${cloud} cloud`);
    }
    return parsed;
  }
}

/** `host:port` with the default https port made explicit, lower-case. */
export function hostAndPort(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || (url.protocol === 'http:' ? '80' : '443')}`;
}

export class UnsupportedInCloudError extends Error {
  constructor(
    readonly cloud: CloudName,
    readonly resource: MicrosoftResource,
  ) {
    super(`the ${cloud} cloud has no ${resource === 'defender' ? 'Defender for Endpoint' : resource} API`);
    this.name = 'UnsupportedInCloudError';
  }
}

/** A URL from a response pointed outside the tenant's cloud; nothing was sent to it. */
export class ForeignHostError extends Error {
  constructor(
    readonly cloud: CloudName,
    /** `host:port` of the refused URL (never the whole URL: it may carry tokens of its own). */
    readonly host: string,
    reason: string,
  ) {
    super(`refused to send a request to ${host}: ${reason}`);
    this.name = 'ForeignHostError';
  }
}

/** The cloud's public Graph host, as Graph writes it in `@odata.id` references (not the endpoint Cordon calls, which tests override). */
export function graphHostOf(cloud: CloudName): string {
  return HOSTS[cloud].graph;
}
