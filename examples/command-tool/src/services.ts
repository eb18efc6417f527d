/** A service the tool knows about. The catalog is in memory: the tool demonstrates routing only. */
export interface ServiceInfo {
  readonly name: string;
  readonly script: string;
  readonly defaultWorkers: number;
}

/** Injected into actions by its class. */
export class ServiceCatalog {
  readonly #services = new Map<string, ServiceInfo>([
    ['web', { name: 'web', script: 'server.mjs', defaultWorkers: 4 }],
    ['mailer', { name: 'mailer', script: 'mailer.mjs', defaultWorkers: 2 }],
    ['cron', { name: 'cron', script: 'cron.mjs', defaultWorkers: 1 }],
  ]);

  get(name: string): ServiceInfo {
    const service = this.#services.get(name);
    if (!service) throw new Error(`no service named '${name}'; known services: ${this.names().join(', ')}`);
    return service;
  }

  names(): string[] {
    return [...this.#services.keys()];
  }
}

/** Injected by token, since an interface has no runtime class. Tests bind a fixed clock. */
export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol.for('command-tool.Clock');

export const systemClock: Clock = { now: () => new Date() };
