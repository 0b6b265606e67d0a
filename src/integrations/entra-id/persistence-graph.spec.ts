import { isExternal, maskEmail, maskPhone, riskOf, toAuthMethod } from './persistence-graph';
import { strongPassword } from './persistence-actions';

describe('inbox rule risk', () => {
  const domains = ['contoso.com', 'contoso.onmicrosoft.com'];
  it('flags forwarding with whether each address is outside the verified domains (subdomains are inside)', () => {
    const risk = riskOf(
      {
        id: 'r1',
        actions: {
          forwardTo: [{ emailAddress: { address: 'x@evil.example' } }],
          forwardAsAttachmentTo: [{ emailAddress: { address: 'boss@eu.contoso.com' } }],
          redirectTo: { emailAddress: { address: 'y@contoso.com' } },
        },
      },
      domains,
    );
    expect(risk.forwards).toEqual([
      { address: 'x@evil.example', via: 'forwardTo', external: true },
      { address: 'boss@eu.contoso.com', via: 'forwardAsAttachmentTo', external: false },
      { address: 'y@contoso.com', via: 'redirectTo', external: false },
    ]);
    expect(risk).toMatchObject({ external: true, risky: true, deletes: false, hides: false });
  });

  it('flags deleting and hiding; a plain rule is not risky; unknown domains leave external null', () => {
    expect(riskOf({ id: 'r', actions: { permanentDelete: true } }, domains)).toMatchObject({ deletes: true, risky: true });
    expect(riskOf({ id: 'r', actions: { moveToFolder: 'DeletedItems' } }, domains)).toMatchObject({ hides: true, risky: true });
    expect(riskOf({ id: 'r', actions: { moveToFolder: 'AAMkAGI2' } }, domains, ['aamkagi2'])).toMatchObject({ hides: true });
    expect(riskOf({ id: 'r', actions: { moveToFolder: 'AAMkProjects' } }, domains)).toMatchObject({ risky: false });
    expect(riskOf({ id: 'r', actions: { forwardTo: [{ emailAddress: { address: 'a@b.example' } }] } }, null).forwards[0].external).toBeNull();
    expect(isExternal('no-at-sign', domains)).toBeNull();
  });
});

describe('sign-in methods', () => {
  it('masks all but the last two digits and never shows secrets', () => {
    expect(maskPhone('+234 8015550143')).toBe('+••• ••••••••43');
    expect(maskEmail('alice@contoso.com')).toBe('a•••@contoso.com');
    const m = toAuthMethod({
      '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod',
      id: 'm1',
      secretKey: 'JBSWY3DPEHPK3PXP',
      phoneNumber: '+1 2065550100',
    });
    expect(m).toMatchObject({ type: 'softwareOath', createdDateTime: null, removable: true, segment: 'softwareOathMethods' });
    expect(JSON.stringify(m)).not.toContain('JBSWY3DPEHPK3PXP');
    expect(JSON.stringify(m)).not.toContain('2065550100');
    expect(toAuthMethod({ '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: '28c10230-6103-485e-b985-444c60001490' }).removable).toBe(false);
  });
});

describe('strongPassword', () => {
  it('is 24 characters from all four classes, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = strongPassword();
      expect(p).toHaveLength(24);
      for (const re of [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/]) expect(p).toMatch(re);
      seen.add(p);
    }
    expect(seen.size).toBe(50);
  });
});
