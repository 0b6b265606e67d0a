#!/usr/bin/env node
// `npm run demo`: the Microsoft 365 simulator and Cordon wired to it, on an embedded database under
// ./data/demo, with the demo tenant registered and an admin and a responder key printed. Ctrl-C stops both.
const { spawn, execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const readline = require('node:readline');

const root = join(__dirname, '..');
const dataDir = join(root, 'data', 'demo');
const port = Number(process.env.DEMO_PORT ?? 3000);
const simPort = Number(process.env.DEMO_SIM_PORT ?? 9440);
const keysFile = join(dataDir, 'demo-keys.json');
const children = [];

function stop(code) {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

function firstLine(child) {
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
  });
}

async function api(path, key, body, method = body ? 'POST' : 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function waitReady() {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('Cordon did not become ready');
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  execFileSync(process.execPath, [join(root, 'scripts', 'build-if-needed.js')], { stdio: 'inherit' });
  const keys = existsSync(keysFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : { admin: 'cdn_' + randomBytes(32).toString('base64url') };

  const sim = spawn(process.execPath, [require.resolve('tsx/cli'), join(root, 'test/m365-simulator/src/cli.ts'), '--port', String(simPort), '--data-dir', join(dataDir, 'simulator'), '--quiet'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(sim);
  const simInfo = JSON.parse(await firstLine(sim));

  const cordon = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'ignore'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      CORDON_DATA_DIR: dataDir,
      CORDON_BOOTSTRAP_ADMIN_KEY: keys.admin,
      CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(simInfo.baseUrls),
      CORDON_MICROSOFT_CA_FILE: simInfo.caCertPath,
      CORDON_LOG_LEVEL: process.env.CORDON_LOG_LEVEL ?? 'warn',
    },
  });
  children.push(cordon);
  cordon.once('exit', (code) => {
    process.stderr.write(`Cordon exited (${code})\n`);
    stop(1);
  });
  await waitReady();

  const demo = simInfo.tenants.find((t) => t.displayName === 'Contoso Demo');
  let created = await api('/v1/tenants', keys.admin, { displayName: 'Contoso Demo', tenantId: demo.tenantId, cloud: 'global', clientId: demo.clientId, credential: { type: 'secret', secret: demo.clientSecret } });
  const tenantId = created.status === 409 ? created.body.existingId : created.body.id;
  if (!tenantId) throw new Error(`could not register the demo tenant: ${JSON.stringify(created.body)}`);
  await api(`/v1/tenants/${tenantId}/capabilities/refresh`, keys.admin, {});
  if (!keys.responder) {
    keys.responder = (await api('/v1/api-keys', keys.admin, { name: 'demo responder', roles: ['responder'] })).body.key;
    keys.analyst = (await api('/v1/api-keys', keys.admin, { name: 'demo analyst', roles: ['analyst'] })).body.key;
    writeFileSync(keysFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }

  const line = '='.repeat(78);
  process.stdout.write(`
${line}
  Cordon demo: http://127.0.0.1:${port} (docs at /docs), Microsoft 365 simulator on ${simPort}-${simPort + 3}
${line}
  TENANT=${tenantId}        # Contoso Demo
  ADMIN=${keys.admin}
  RESPONDER=${keys.responder}
  ANALYST=${keys.analyst}

  The console: open http://127.0.0.1:${port}/console/ and paste the RESPONDER key (Find and act: alice@contoso.example).

  Isolate a user (the README's "Demo" section walks through it):
    curl -s -X POST http://127.0.0.1:${port}/v1/tenants/$TENANT/users/alice@contoso.example/isolate \\
      -H "Authorization: Bearer $RESPONDER" -H 'Content-Type: application/json' -H 'Prefer: wait=10' \\
      -d '{"reason":"demo: impossible travel"}'
  Alice is also a BEC victim: a rule forwarding her mail to alice.archive@proton.example, a consent
  to the unverified app "Mail Helper Pro", a phone added yesterday. See it, then evict it all:
    curl -s http://127.0.0.1:${port}/v1/tenants/$TENANT/users/alice@contoso.example/inbox-rules -H "Authorization: Bearer $RESPONDER"
    curl -s -X POST http://127.0.0.1:${port}/v1/tenants/$TENANT/users/alice@contoso.example/contain-bec \\
      -H "Authorization: Bearer $RESPONDER" -H 'Content-Type: application/json' -H 'Prefer: wait=30' \\
      -d '{"reason":"demo: BEC, forwarding to an outside address"}'
  What the simulated tenant now says about her:
    curl -s --cacert ${simInfo.caCertPath} https://localhost:${simPort}/_sim/state/tenants/${demo.tenantId}/users/alice@contoso.example
  Keys are kept in ${keysFile}. Ctrl-C stops both.
${line}
`);
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error.stack ?? error}\n`);
  stop(1);
});
