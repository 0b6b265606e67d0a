import { checkOutboundUrl, forbiddenRange, OutboundUrlRefused, parseAllowedHosts, pinnedLookup, ResolvedAddress } from './outbound-url';

/** A resolver that answers from a table, as tests do instead of a DNS server. */
const resolver = (table: Record<string, string[]>) => ({
  lookup: async (host: string): Promise<ResolvedAddress[]> => {
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  },
});

async function refusal(url: string, table: Record<string, string[]> = {}, allowed = ''): Promise<string> {
  const problems: string[] = [];
  try {
    await checkOutboundUrl(url, parseAllowedHosts(allowed, 'X', problems), resolver(table));
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundUrlRefused);
    return (error as Error).message;
  }
  throw new Error(`${url} was not refused`);
}

describe('forbiddenRange', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.0', 'CGNAT'],
    ['100.127.255.255', 'CGNAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'reserved'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'private'],
    ['fdff:ffff::1', 'private'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4 embedded in IPv6)'],
    ['::ffff:7f00:1', 'loopback (IPv4 embedded in IPv6)'],
    ['::FFFF:10.1.2.3', 'private (IPv4 embedded in IPv6)'],
    ['::ffff:169.254.169.254', 'link-local (IPv4 embedded in IPv6)'],
    ['::127.0.0.1', 'loopback (IPv4 embedded in IPv6)'],
    ['::8.8.8.8', 'IPv4-compatible (IPv4 embedded in IPv6)'],
    ['64:ff9b::10.0.0.1', 'private (IPv4 embedded in IPv6)'],
    ['2002:c0a8:0101::1', 'private (IPv4 embedded in IPv6)'],
  ])('%s is %s', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '223.255.255.255',
    '2001:4860:4860::8888',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
    'fbff::1',
    'fe7f::1',
  ])('%s is public', (address) => {
    expect(forbiddenRange(address)).toBeUndefined();
  });
});

describe('checkOutboundUrl', () => {
  const PUBLIC = { 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'] };

  it('accepts https to a public host and answers the address to connect to', async () => {
    const target = await checkOutboundUrl('https://hooks.example.com/cordon?x=1', [], resolver(PUBLIC));
    expect(target).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(target.url.href).toBe('https://hooks.example.com/cordon?x=1');
    expect(await checkOutboundUrl('https://[2606:4700::1111]/hook', [], resolver({}))).toMatchObject({ address: '2606:4700::1111', family: 6 });
  });

  it('refuses plain http, other schemes, credentials, fragments and non-URLs', async () => {
    expect(await refusal('http://hooks.example.com/hook', PUBLIC)).toMatch(/must be https/);
    expect(await refusal('ftp://hooks.example.com/hook', PUBLIC)).toMatch(/must be https/);
    expect(await refusal('javascript:alert(1)')).toMatch(/must be https/);
    expect(await refusal('https://user:pw@hooks.example.com/hook', PUBLIC)).toMatch(/credentials/);
    expect(await refusal('https://hooks.example.com/hook#frag', PUBLIC)).toMatch(/fragment/);
    expect(await refusal('/relative/path')).toMatch(/absolute/);
  });

  it('refuses literals in every forbidden range, in the forms new URL normalizes', async () => {
    for (const [url, range] of [
      ['https://127.0.0.1/', 'loopback'],
      ['https://0x7f000001/', 'loopback'],
      ['https://2130706433/', 'loopback'],
      ['https://0177.0.0.1/', 'loopback'],
      ['https://127.1/', 'loopback'],
      ['https://0/', 'unspecified'],
      ['https://10.0.0.5:8443/', 'private'],
      ['https://169.254.169.254/latest/meta-data', 'link-local'],
      ['https://100.100.100.200/', 'CGNAT'],
      ['https://[::1]/', 'loopback'],
      ['https://[::ffff:127.0.0.1]/', 'loopback'],
      ['https://[::ffff:a00:1]/', 'private'],
      ['https://[fd00::1]/', 'private'],
      ['https://[fe80::1]/', 'link-local'],
    ]) {
      expect(await refusal(url)).toMatch(new RegExp(`is a ${range}`));
    }
  });

  it('refuses a name when any address it resolves to is forbidden, and a name that does not resolve', async () => {
    expect(await refusal('https://localhost/hook', { localhost: ['127.0.0.1', '::1'] })).toMatch(
      /localhost resolves to 127\.0\.0\.1, which is a loopback address/,
    );
    expect(await refusal('https://mixed.example.com/', { 'mixed.example.com': ['93.184.216.34', '10.0.0.7'] })).toMatch(/10\.0\.0\.7, which is a private/);
    expect(await refusal('https://v6.example.com/', { 'v6.example.com': ['::ffff:192.168.0.1'] })).toMatch(/private \(IPv4 embedded in IPv6\)/);
    expect(await refusal('https://nowhere.example.com/')).toMatch(/does not resolve \(ENOTFOUND\)/);
    expect(await refusal('https://empty.example.com/', { 'empty.example.com': [] })).toMatch(/does not resolve/);
  });

  it('lets an allowed host be internal and plain http, on its port only when one is listed', async () => {
    const allowed = parseAllowedHosts('127.0.0.1:8080, hooks.internal, [::1]:9000', 'X', []);
    const internal = resolver({ 'hooks.internal': ['10.1.2.3'] });
    expect(await checkOutboundUrl('http://127.0.0.1:8080/hook', allowed, internal)).toMatchObject({ address: '127.0.0.1' });
    expect(await checkOutboundUrl('https://hooks.internal/hook', allowed, internal)).toMatchObject({ address: '10.1.2.3' });
    expect(await checkOutboundUrl('http://hooks.internal:1234/hook', allowed, internal)).toMatchObject({ address: '10.1.2.3' });
    expect(await checkOutboundUrl('http://[::1]:9000/', allowed, internal)).toMatchObject({ address: '::1', family: 6 });
    expect(await refusal('http://127.0.0.1:8081/hook', {}, '127.0.0.1:8080')).toMatch(/must be https/);
    expect(await refusal('https://127.0.0.1:8081/hook', {}, '127.0.0.1:8080')).toMatch(/loopback/);
    expect(await refusal('https://127.0.0.2:8080/hook', {}, '127.0.0.1:8080')).toMatch(/loopback/);
    expect(await refusal('https://localhost:8080/hook', { localhost: ['127.0.0.1'] }, '127.0.0.1:8080')).toMatch(/loopback/);
    expect(await refusal('ftp://hooks.internal/', {}, 'hooks.internal')).toMatch(/must be https/);
  });
});

describe('parseAllowedHosts', () => {
  it('normalizes hosts as URLs do and keeps the port', () => {
    const problems: string[] = [];
    expect(parseAllowedHosts(' Hooks.Internal , 127.0.0.1:8080,0x7f000002:443,[::1]:80,[FD00::1]', 'X', problems)).toEqual([
      { hostname: 'hooks.internal' },
      { hostname: '127.0.0.1', port: '8080' },
      { hostname: '127.0.0.2', port: '443' },
      { hostname: '[::1]', port: '80' },
      { hostname: '[fd00::1]' },
    ]);
    expect(problems).toEqual([]);
    expect(parseAllowedHosts(undefined, 'X', problems)).toEqual([]);
  });

  it('names each bad entry', () => {
    const problems: string[] = [];
    expect(parseAllowedHosts('http://x, a:0, a:99999, a/b, ::1, user@host, good', 'CORDON_WEBHOOK_ALLOWED_HOSTS', problems)).toEqual([{ hostname: 'good' }]);
    expect(problems).toHaveLength(6);
    expect(problems[0]).toMatch(/^CORDON_WEBHOOK_ALLOWED_HOSTS must be .*\(got "http:\/\/x"\)/);
  });
});

describe('pinnedLookup', () => {
  it('answers the pinned address whether one or all addresses are asked for', () => {
    const lookup = pinnedLookup({ address: '93.184.216.34', family: 4 });
    const one = jest.fn();
    const all = jest.fn();
    lookup('hooks.example.com', {}, one);
    lookup('hooks.example.com', { all: true }, all);
    expect(one).toHaveBeenCalledWith(null, '93.184.216.34', 4);
    expect(all).toHaveBeenCalledWith(null, [{ address: '93.184.216.34', family: 4 }]);
  });
});
