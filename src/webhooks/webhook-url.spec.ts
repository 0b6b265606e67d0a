import { isLoopbackHost, webhookUrlProblem } from './webhook-url';

describe('webhook URL rule', () => {
  it('accepts https anywhere and http only on loopback', () => {
    expect(webhookUrlProblem('https://soar.example.com/hooks/cordon?x=1')).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook')).toBeUndefined();
    expect(webhookUrlProblem('http://localhost:8080/hook')).toBeUndefined();
    expect(webhookUrlProblem('http://[::1]:8080/hook')).toBeUndefined();
    expect(webhookUrlProblem('http://soar.example.com/hook')).toMatch(/https/);
    expect(webhookUrlProblem('http://10.0.0.5/hook')).toMatch(/https/);
    expect(webhookUrlProblem('http://127.0.0.1.example.com/hook')).toMatch(/https/);
  });

  it('refuses other schemes, credentials, fragments and non-URLs', () => {
    expect(webhookUrlProblem('ftp://127.0.0.1/hook')).toMatch(/https/);
    expect(webhookUrlProblem('javascript:alert(1)')).toMatch(/https/);
    expect(webhookUrlProblem('https://user:pw@example.com/hook')).toMatch(/credentials/);
    expect(webhookUrlProblem('https://example.com/hook#frag')).toMatch(/fragment/);
    expect(webhookUrlProblem('/relative/path')).toMatch(/absolute/);
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.8.9.10', 'localhost', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['128.0.0.1', '0.0.0.0', 'example.com', 'api.localhost', '::ffff:10.0.0.1'].some(isLoopbackHost)).toBe(false);
  });
});
