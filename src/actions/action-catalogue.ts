import { Injectable } from '@nestjs/common';
import type { ActionHandler } from './action-handler';

/** The handlers integration modules register, by action type. */
@Injectable()
export class ActionCatalogue {
  private readonly handlers = new Map<string, ActionHandler>();

  register(handler: ActionHandler): void {
    if (this.handlers.has(handler.type)) throw new Error(`action type ${handler.type} registered twice`);
    this.handlers.set(handler.type, handler);
  }

  get(type: string): ActionHandler {
    const handler = this.handlers.get(type);
    if (!handler) throw new Error(`no handler for action type ${type}`);
    return handler;
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
