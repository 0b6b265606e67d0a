/**
 * MSAL Node and the Microsoft Graph JS client against the simulator, unchanged: only the authority,
 * the Graph base URL and the trusted CA differ from a real tenant.
 *
 *   npm run simulator -- --port 9440 --data-dir /tmp/m365-sim     # in another terminal
 *   NODE_EXTRA_CA_CERTS=/tmp/m365-sim/m365-simulator-ca.pem npx tsx test/m365-simulator/examples/msal-graph.ts
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';

const LOGIN = process.env.SIM_LOGIN ?? 'https://localhost:9440';
const GRAPH = process.env.SIM_GRAPH ?? 'https://localhost:9441';
const TENANT = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c'; // Contoso Demo
const CLIENT_ID = 'a1f0c3d2-7b6e-4c5d-9e8f-0a1b2c3d4e5f';
const CLIENT_SECRET = 'contoso-demo-secret~not-for-production';

async function main(): Promise<void> {
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      authority: `${LOGIN}/${TENANT}`,
      // A non-Microsoft authority must be known, with its port (microsoft-notes §1.4, M22).
      knownAuthorities: [new URL(LOGIN).host],
    },
  });
  const token = await msal.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
  if (!token) throw new Error('no token');
  console.log(`token for ${token.scopes.join(' ')}, expires ${token.expiresOn?.toISOString()}`);

  // The client sends the token only to Microsoft's hosts and `customHosts` (hostnames, no port).
  const graph = Client.init({ baseUrl: GRAPH, customHosts: new Set([new URL(GRAPH).hostname]), authProvider: (done) => done(null, token.accessToken) });
  const users = await graph.api('/users').select(['id', 'userPrincipalName', 'accountEnabled']).top(5).get();
  for (const user of users.value) console.log(`${user.userPrincipalName}  enabled=${user.accountEnabled}`);
  const alerts = await graph.api('/security/alerts_v2').header('Prefer', 'include-unknown-enum-members').top(3).get();
  for (const alert of alerts.value) console.log(`alert ${alert.id}: ${alert.title} (${alert.serviceSource}, ${alert.severity})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
