import { FactoryProvider, Injectable } from '@nestjs/common';
import type { Capability, CapabilityCheck } from './capability';

/** The capability checks integration modules declare (each with `registerCapabilities` in its providers). */
@Injectable()
export class CapabilityRegistry {
  private readonly checks: CapabilityCheck[] = [];
  private readonly names = new Set<string>();

  register(check: CapabilityCheck): void {
    for (const { name } of check.capabilities) {
      if (this.names.has(name)) throw new Error(`capability ${name} registered twice`);
      this.names.add(name);
    }
    this.checks.push(check);
  }

  all(): CapabilityCheck[] {
    return [...this.checks];
  }

  capabilities(): Capability[] {
    return this.checks.flatMap((check) => check.capabilities);
  }
}

/**
 * The provider an integration module lists to declare its capabilities: it registers them when the
 * module starts, before any probe runs. The module imports `TenantsModule`, which exports the registry.
 */
export function registerCapabilities(...checks: CapabilityCheck[]): FactoryProvider<CapabilityCheck[]> {
  return {
    provide: Symbol('capabilities'),
    inject: [CapabilityRegistry],
    useFactory: (registry: CapabilityRegistry) => {
      for (const check of checks) registry.register(check);
      return checks;
    },
  };
}
