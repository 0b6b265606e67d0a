import { CLOUD_NAMES, Clouds, ForeignHostError, UnsupportedInCloudError } from './clouds';

/** The host matrix of microsoft-notes §0.1 and the scopes of §1.1, row by row. */

const expected = {
  global: {
    login: 'https://login.microsoftonline.com',
    graph: 'https://graph.microsoft.com',
    manage: 'https://manage.office.com',
    defender: 'https://api.securitycenter.microsoft.com',
  },
  'usgov-gcc': {
    login: 'https://login.microsoftonline.com',
    graph: 'https://graph.microsoft.com',
    manage: 'https://manage-gcc.office.com',
    defender: 'https://api-gcc.securitycenter.microsoft.us',
  },
  'usgov-gcchigh': {
    login: 'https://login.microsoftonline.us',
    graph: 'https://graph.microsoft.us',
    manage: 'https://manage.office365.us',
    defender: 'https://api-gov.securitycenter.microsoft.us',
  },
  'usgov-dod': {
    login: 'https://login.microsoftonline.us',
    graph: 'https://dod-graph.microsoft.us',
    manage: 'https://manage.protection.apps.mil',
    defender: 'https://api-gov.securitycenter.microsoft.us',
  },
  china: {
    login: 'https://login.chinacloudapi.cn',
    graph: 'https://microsoftgraph.chinacloudapi.cn',
    manage: 'https://manage.office365.cn',
    defender: null,
  },
} as const;

const SIM = { login: 'https://localhost:4100', graph: 'https://localhost:4101', manage: 'https://localhost:4102', defender: 'https://localhost:4103' };

describe('Clouds', () => {
  const clouds = new Clouds();

  it.each(CLOUD_NAMES)('%s: hosts and token scopes as in microsoft-notes §0.1 and §1.1', (cloud) => {
    const row = expected[cloud];
    const endpoints = clouds.endpoints(cloud);
    expect(endpoints).toMatchObject(row);
    expect(endpoints.scopes).toEqual({
      graph: `${row.graph}/.default`,
      manage: `${row.manage}/.default`,
      defender: row.defender ? `${row.defender}/.default` : null,
    });
  });

  it('gives the documented scopes of microsoft-notes §1.1 literally', () => {
    expect(clouds.scope('global', 'graph')).toBe('https://graph.microsoft.com/.default');
    expect(clouds.scope('global', 'manage')).toBe('https://manage.office.com/.default');
    // MDE tokens are for api.securitycenter.microsoft.com, not api.security.microsoft.com (microsoft-notes M16).
    expect(clouds.scope('global', 'defender')).toBe('https://api.securitycenter.microsoft.com/.default');
    expect(clouds.scope('usgov-gcc', 'manage')).toBe('https://manage-gcc.office.com/.default');
    expect(clouds.scope('usgov-dod', 'graph')).toBe('https://dod-graph.microsoft.us/.default');
  });

  it('has no Defender for Endpoint in China', () => {
    expect(() => clouds.baseUrl('china', 'defender')).toThrow(UnsupportedInCloudError);
    expect(() => clouds.scope('china', 'defender')).toThrow(/china cloud has no Defender for Endpoint API/);
    expect(clouds.allowedHosts('china', 'defender').size).toBe(0);
  });

  it('lists host:port per resource, Defender geo hosts included', () => {
    expect([...clouds.allowedHosts('global', 'graph')]).toEqual(['graph.microsoft.com:443']);
    expect([...clouds.allowedHosts('global', 'defender')]).toEqual(
      expect.arrayContaining(['api.securitycenter.microsoft.com:443', 'api.security.microsoft.com:443', 'eu.api.security.microsoft.com:443']),
    );
    expect(clouds.allowedHosts('global', 'defender').has('evil.api.security.microsoft.com:443')).toBe(false);
    expect(clouds.allowedHosts('usgov-gcchigh')).toEqual(
      new Set(['graph.microsoft.us:443', 'manage.office365.us:443', 'api-gov.securitycenter.microsoft.us:443']),
    );
  });

  describe('assertFollowable', () => {
    it('accepts a URL on the cloud host list, verbatim', () => {
      const next = 'https://manage.office.com/api/v1/t/activity/feed/subscriptions/content?contentType=Audit.Exchange&nextPage=2025';
      expect(clouds.assertFollowable('global', next, 'manage').href).toBe(next);
      expect(clouds.assertFollowable('global', 'https://GRAPH.microsoft.com:443/v1.0/users?$skiptoken=x').hostname).toBe('graph.microsoft.com');
    });

    it.each([
      ['another cloud', 'usgov-gcchigh', 'https://graph.microsoft.com/v1.0/users'],
      ['a foreign host', 'global', 'https://evil.example/v1.0/users'],
      ['a look-alike host', 'global', 'https://graph.microsoft.com.evil.example/v1.0/users'],
      ['plain http', 'global', 'http://graph.microsoft.com/v1.0/users'],
      ['another port', 'global', 'https://graph.microsoft.com:8443/v1.0/users'],
      ['embedded credentials', 'global', 'https://user:pw@graph.microsoft.com/v1.0/users'],
      ['a relative URL', 'global', '/v1.0/users'],
    ] as const)('refuses %s', (_what, cloud, url) => {
      expect(() => clouds.assertFollowable(cloud, url)).toThrow(ForeignHostError);
    });

    it('keeps tokens of one API off the hosts of another', () => {
      expect(() => clouds.assertFollowable('global', 'https://graph.microsoft.com/v1.0/users', 'manage')).toThrow(/not a manage host of the global cloud/);
    });

    it('names the host in the error, never the query', () => {
      try {
        clouds.assertFollowable('global', 'https://evil.example:444/steal?token=abc');
        throw new Error('not refused');
      } catch (error) {
        expect(error).toBeInstanceOf(ForeignHostError);
        expect((error as ForeignHostError).host).toBe('evil.example:444');
        expect((error as Error).message).not.toContain('abc');
      }
    });
  });

  describe('with CORDON_MICROSOFT_ENDPOINTS', () => {
    const sim = new Clouds(SIM);

    it.each(CLOUD_NAMES)('%s points at the override, scopes included', (cloud) => {
      expect(sim.endpoints(cloud)).toEqual({
        cloud,
        ...SIM,
        scopes: { graph: `${SIM.graph}/.default`, manage: `${SIM.manage}/.default`, defender: `${SIM.defender}/.default` },
      });
    });

    it('allows exactly the override hosts, told apart by port', () => {
      expect(sim.overridden).toBe(true);
      expect(new Clouds().overridden).toBe(false);
      expect([...sim.allowedHosts('global', 'manage')]).toEqual(['localhost:4102']);
      expect(() => sim.assertFollowable('global', 'https://localhost:4101/v1.0/users', 'manage')).toThrow(ForeignHostError);
      expect(() => sim.assertFollowable('global', 'https://graph.microsoft.com/v1.0/users')).toThrow(ForeignHostError);
      expect(sim.assertFollowable('china', 'https://localhost:4103/api/machines', 'defender').port).toBe('4103');
    });
  });
});
