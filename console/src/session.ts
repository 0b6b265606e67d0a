/**
 * The API key the person pasted, kept in sessionStorage only: gone when the tab closes, never in
 * localStorage, a cookie or a URL.
 */
import type { Problem, WhoAmI } from './api';

const KEY = 'cordon.console.apiKey';
let who: WhoAmI | null = null;
const cleared: Array<() => void> = [];
let unauthorized: (problem: Partial<Problem>) => void = () => undefined;

export const session = {
  key(): string | null {
    return sessionStorage.getItem(KEY);
  },
  set(key: string): void {
    sessionStorage.setItem(KEY, key);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
    who = null;
    cleared.forEach((fn) => fn());
  },
  who(): WhoAmI | null {
    return who;
  },
  setWho(value: WhoAmI): void {
    who = value;
  },
  has(role: WhoAmI['roles'][number]): boolean {
    return who?.roles.includes(role) ?? false;
  },
  any(...roles: Array<WhoAmI['roles'][number]>): boolean {
    return roles.some((r) => session.has(r));
  },
  /** Runs `fn` when the person signs out (caches of what the last key could see are dropped). */
  onClear(fn: () => void): void {
    cleared.push(fn);
  },
  onUnauthorized(problem: Partial<Problem>): void {
    unauthorized(problem);
  },
  whenUnauthorized(fn: (problem: Partial<Problem>) => void): void {
    unauthorized = fn;
  },
};
