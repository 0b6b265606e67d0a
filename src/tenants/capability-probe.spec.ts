import {
  GraphClientFactory,
  MicrosoftApiError,
  MicrosoftAuthError,
  MicrosoftHttp,
  TokenProvider,
  type MicrosoftResource,
  type TenantCredentials,
} from '../microsoft';
import type { CapabilityCheck } from './capability';
import { CapabilityProbe } from './capability-probe';
import { CapabilityRegistry } from './capability-registry';

const tenant = { tenantId: '11111111-1111-1111-1111-111111111111', cloud: 'global' } as TenantCredentials;
const token = (roles: string[]) => `x.${Buffer.from(JSON.stringify({ roles })).toString('base64url')}.y`;
const forbidden = new MicrosoftApiError({
  kind: 'forbidden',
  resource: 'graph',
  status: 403,
  code: 'Authorization_RequestDenied',
  message: 'Insufficient privileges',
  method: 'GET',
  url: '/x',
  attempts: 1,
});

/** Answers its roles for the resource it holds, and says which permissions Cordon holds. */
const rolesCheck: CapabilityCheck = {
  capabilities: [{ name: 'b-roles', permissions: ['B.Read'], licence: null }],
  probe: async ({ roles }) => [{ capability: 'b-roles', status: 'available', detail: (await roles('manage')).join(',') }],
};
const failingCheck: CapabilityCheck = {
  capabilities: [
    { name: 'c-first', permissions: ['C.Read', 'C.ReadWrite'], licence: null },
    { name: 'a-second', permissions: ['A.Read'], licence: null },
  ],
  probe: async () => {
    throw forbidden;
  },
};

function probeWith(getToken: (resource: MicrosoftResource) => Promise<string>, ...checks: CapabilityCheck[]): CapabilityProbe {
  const registry = new CapabilityRegistry();
  for (const check of checks) registry.register(check);
  const tokens = { getToken: (_: TenantCredentials, resource: MicrosoftResource) => getToken(resource) } as unknown as TokenProvider;
  const graphs = { forTenant: () => ({}) } as unknown as GraphClientFactory;
  return new CapabilityProbe(tokens, {} as MicrosoftHttp, graphs, registry);
}

describe('CapabilityRegistry', () => {
  it('refuses a capability declared twice', () => {
    const registry = new CapabilityRegistry();
    registry.register(rolesCheck);
    expect(() => registry.register({ ...failingCheck, capabilities: [...failingCheck.capabilities, rolesCheck.capabilities[0]] })).toThrow(
      'capability b-roles registered twice',
    );
    expect(registry.capabilities().map((c) => c.name)).toEqual(['b-roles']);
  });
});

describe('CapabilityProbe', () => {
  it("runs every registered check; a check that throws names each capability's own permissions", async () => {
    const outcome = await probeWith(async (resource) => token(resource === 'manage' ? ['B.Read', 'B.Write'] : []), failingCheck, rolesCheck).probe(tenant);
    expect(outcome.connection).toEqual({ status: 'connected', detail: null });
    expect(outcome.capabilities).toEqual([
      {
        capability: 'a-second',
        status: 'forbidden',
        detail: 'needs A.Read; Microsoft said Authorization_RequestDenied: graph 403 Authorization_RequestDenied: Insufficient privileges (GET /x)',
      },
      { capability: 'b-roles', status: 'available', detail: 'B.Read,B.Write' },
      {
        capability: 'c-first',
        status: 'forbidden',
        detail:
          'needs C.Read or C.ReadWrite; Microsoft said Authorization_RequestDenied: graph 403 Authorization_RequestDenied: Insufficient privileges (GET /x)',
      },
    ]);
  });

  it('without a Graph token marks every capability unreachable and runs no check', async () => {
    const probe = jest.fn(rolesCheck.probe);
    const wrongSecret = new MicrosoftAuthError('invalid_client', [7000215], 'AADSTS7000215: Invalid client secret provided.', tenant.tenantId);
    const outcome = await probeWith(() => Promise.reject(wrongSecret), failingCheck, { ...rolesCheck, probe }).probe(tenant);
    expect(outcome.connection).toEqual({ status: 'credential-error', detail: wrongSecret.message });
    expect(outcome.capabilities.map((c) => [c.capability, c.status])).toEqual([
      ['a-second', 'unreachable'],
      ['b-roles', 'unreachable'],
      ['c-first', 'unreachable'],
    ]);
    expect(outcome.capabilities[0].detail).toBe(`no access token: ${wrongSecret.message}`);
    expect(probe).not.toHaveBeenCalled();
  });
});
