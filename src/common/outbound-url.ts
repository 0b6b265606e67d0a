import { Injectable } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/**
 * The rule for every URL Cordon calls on a user's behalf (today: the tenant webhook). Such a URL must
 * not aim Cordon into the operator's own network: it is https, and every address its host resolves to
 * is a public one — not loopback, private (RFC 1918, RFC 4193), link-local, CGNAT, multicast,
 * unspecified or reserved, nor an IPv6 form that embeds one of those (IPv4-mapped, IPv4-compatible,
 * NAT64, 6to4). The check runs when the URL is configured and again before every call, and the call
 * then connects to the very address that was checked (see `pinnedLookup`), so a name that resolves to
 * something else a second later (DNS rebinding) cannot slip through. An operator who needs an internal
 * receiver names it in `CORDON_WEBHOOK_ALLOWED_HOSTS`: an allowed host may resolve anywhere and may
 * use plain http. Nothing else relaxes the rule.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A host allowed to be internal: `host` (any port) or `host:port`, as `new URL` normalizes the host. */
export interface AllowedHost {
  hostname: string;
  port?: string;
}

/** Where a call may go: the URL, and the checked address the connection must use. */
export interface OutboundTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Why a URL may not be called; the message names the reason, for a 400 or a delivery log. */
export class OutboundUrlRefused extends Error {}

/** Name resolution, as a provider so that tests can answer for names without a DNS server. */
@Injectable()
export class HostResolver {
  async lookup(hostname: string): Promise<ResolvedAddress[]> {
    const found = await dns.lookup(hostname, { all: true, verbatim: true });
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  }
}

/** Checks a URL against the rule and answers where to connect; throws OutboundUrlRefused. */
export async function checkOutboundUrl(text: string, allowedHosts: AllowedHost[], resolver: Pick<HostResolver, 'lookup'>): Promise<OutboundTarget> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OutboundUrlRefused('url must be an absolute URL');
  }
  if (url.username || url.password) throw new OutboundUrlRefused('url must not carry credentials; use the secret');
  if (url.hash) throw new OutboundUrlRefused('url must not have a fragment');
  const allowed = isAllowedHost(url, allowedHosts);
  if (url.protocol !== 'https:' && !(allowed && url.protocol === 'http:')) {
    throw new OutboundUrlRefused('url must be https (plain http only for a host listed in CORDON_WEBHOOK_ALLOWED_HOSTS)');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolver.lookup(host);
    } catch (error) {
      throw new OutboundUrlRefused(`url host ${host} does not resolve (${(error as { code?: string }).code ?? (error as Error).message})`);
    }
    if (addresses.length === 0) throw new OutboundUrlRefused(`url host ${host} does not resolve`);
  }
  if (!allowed) {
    for (const { address } of addresses) {
      const range = forbiddenRange(address);
      if (range) {
        const via = literal ? '' : ` resolves to ${address}, which`;
        throw new OutboundUrlRefused(
          `url host ${host}${via} is a ${range} address; Cordon calls only public addresses (an operator can allow an internal host with CORDON_WEBHOOK_ALLOWED_HOSTS)`,
        );
      }
    }
  }
  return { url, ...addresses[0] };
}

function isAllowedHost(url: URL, allowedHosts: AllowedHost[]): boolean {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowedHosts.some((h) => h.hostname === url.hostname && (h.port === undefined || h.port === port));
}

/**
 * The `lookup` of a request that must connect to the checked address only. Node asks for one address,
 * or for all of them (`all: true`, when it races IPv4 and IPv6); either way it gets the pinned one.
 * The request keeps the host name for TLS (SNI, certificate check) and the Host header.
 */
export function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

const ENTRY = /^(\[[0-9a-fA-F:.]+\]|[^\s:/?#@[\]\\]+)(?::(\d{1,5}))?$/;

/** `CORDON_WEBHOOK_ALLOWED_HOSTS`: a comma list of `host` or `host:port` (IPv6 in brackets). */
export function parseAllowedHosts(raw: string | undefined, name: string, problems: string[]): AllowedHost[] {
  const hosts: AllowedHost[] = [];
  for (const entry of (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = ENTRY.exec(entry);
    let hostname: string | undefined;
    try {
      hostname = match ? new URL(`http://${match[1]}/`).hostname : undefined;
    } catch {
      hostname = undefined;
    }
    const port = match?.[2];
    if (!hostname || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
      problems.push(`${name} must be a comma list of host or host:port (IPv6 in brackets), e.g. "hooks.internal,10.0.0.5:8443" (got "${entry}")`);
      continue;
    }
    hosts.push(port === undefined ? { hostname } : { hostname, port: String(Number(port)) });
  }
  return hosts;
}

/** The forbidden range an address is in ("loopback", "private", …), or undefined for a public address. */
export function forbiddenRange(address: string): string | undefined {
  const kind = isIP(address);
  if (kind === 4) return ipv4Range(parseIpv4(address));
  if (kind === 6) return ipv6Range(parseIpv6(address));
  return 'unparseable';
}

const IPV4_RANGES = (
  [
    ['0.0.0.0', 8, 'unspecified'],
    ['10.0.0.0', 8, 'private'],
    ['100.64.0.0', 10, 'CGNAT'],
    ['127.0.0.0', 8, 'loopback'],
    ['169.254.0.0', 16, 'link-local'],
    ['172.16.0.0', 12, 'private'],
    ['192.0.0.0', 24, 'reserved'],
    ['192.168.0.0', 16, 'private'],
    ['198.18.0.0', 15, 'reserved'],
    ['224.0.0.0', 4, 'multicast'],
    ['240.0.0.0', 4, 'reserved'],
  ] as const
).map(([base, bits, name]) => ({ base: parseIpv4(base), mask: (0xffffffff << (32 - bits)) >>> 0, name }));

function ipv4Range(value: number): string | undefined {
  return IPV4_RANGES.find((r) => (value & r.mask) >>> 0 === r.base)?.name;
}

function parseIpv4(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Eight 16-bit groups; `isIP` has already said the text is IPv6 (a zone index is dropped). */
function parseIpv6(address: string): number[] {
  let text = address.split('%')[0].toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}

function ipv6Range(g: number[]): string | undefined {
  const embedded = (hi: number, lo: number) => ipv4Range(((g[hi] << 16) >>> 0) + g[lo]);
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  if (zeroUpTo(5) && g[5] === 0xffff) return mapped(embedded(6, 7));
  if (zeroUpTo(6)) return mapped(embedded(6, 7) ?? 'IPv4-compatible'); // deprecated ::a.b.c.d, never a real destination
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return mapped(embedded(6, 7)); // NAT64
  if (g[0] === 0x2002) return mapped(embedded(1, 2)); // 6to4
  if ((g[0] & 0xfe00) === 0xfc00) return 'private';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xffc0) === 0xfec0) return 'site-local';
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

function mapped(range: string | undefined): string | undefined {
  return range && `${range} (IPv4 embedded in IPv6)`;
}
