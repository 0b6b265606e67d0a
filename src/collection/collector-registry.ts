import { Injectable } from '@nestjs/common';
import type { Collector } from './collector';

/** The collectors integration modules contribute (each registers itself in `onModuleInit`). */
@Injectable()
export class CollectorRegistry {
  private readonly collectors = new Map<string, Collector>();

  register(collector: Collector): void {
    if (this.collectors.has(collector.source)) throw new Error(`collector ${collector.source} registered twice`);
    this.collectors.set(collector.source, collector);
  }

  all(): Collector[] {
    return [...this.collectors.values()];
  }

  get(source: string): Collector | undefined {
    return this.collectors.get(source);
  }

  /** The collector that owns a stream name (stream names are unique across sources). */
  byStream(stream: string): { collector: Collector; stream: string } | undefined {
    for (const collector of this.collectors.values()) {
      const found = collector.streams.find((s) => s.name.toLowerCase() === stream.toLowerCase());
      if (found) return { collector, stream: found.name };
    }
    return undefined;
  }
}
