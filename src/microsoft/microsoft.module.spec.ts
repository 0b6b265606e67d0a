import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { startSimulator, type RunningSimulator } from '../../test/m365-simulator/src';
import { loadConfig } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { Clouds } from './clouds';
import { GraphClientFactory } from './graph-client.factory';
import { MicrosoftHttp } from './microsoft-http';
import { MicrosoftModule } from './microsoft.module';
import type { TenantCredentials } from './tenant-credentials';
import { TokenProvider } from './token-provider';

/**
 * The module wired from the environment as an operator would set it for the demo:
 * CORDON_MICROSOFT_ENDPOINTS from the simulator's baseUrls and CORDON_MICROSOFT_CA_FILE = its CA file.
 */

let sim: RunningSimulator;
let app: INestApplicationContext;
let tenant: TenantCredentials;

beforeAll(async () => {
  sim = await startSimulator({ quiet: true });
  const config = loadConfig({ CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls), CORDON_MICROSOFT_CA_FILE: sim.caCertPath });
  @Module({ imports: [ConfigModule.forRoot(config), MicrosoftModule] })
  class TestRoot {}
  app = await NestFactory.createApplicationContext(TestRoot, { logger: false });
  const demo = sim.tenants[0];
  tenant = { tenantId: demo.tenantId, clientId: demo.clientId, cloud: 'usgov-gcchigh', credential: { type: 'secret', secret: demo.clientSecret! } };
});
afterAll(async () => {
  await app?.close();
  await sim?.stop();
});

describe('MicrosoftModule', () => {
  it('exports the endpoint table built from CORDON_MICROSOFT_ENDPOINTS', () => {
    const clouds = app.get(Clouds);
    expect(clouds.overridden).toBe(true);
    expect(clouds.endpoints('usgov-dod').manage).toBe(sim.baseUrls.manage);
    expect(app.get(TokenProvider)).toBeInstanceOf(TokenProvider);
  });

  it('reaches Defender and Graph over TLS trusted through CORDON_MICROSOFT_CA_FILE', async () => {
    const machines = await app.get(MicrosoftHttp).request<{ value: unknown[] }>({ tenant, resource: 'defender', url: '/api/machines' });
    expect(machines.body.value.length).toBeGreaterThan(0);
    const user = await app.get(GraphClientFactory).forTenant(tenant).get<{ displayName: string }>('/users/alice@contoso.example');
    expect(user.displayName).toBe('Alice Example');
  });
});
