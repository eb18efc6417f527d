import { Action, CommandAction } from '@drover/command';
import { inject } from 'inversify';
import type { Verbosity } from './options.js';
import { CLOCK, type Clock, ServiceCatalog } from './services.js';

interface StartParams {
  detach: boolean;
  workers: number | 'cpus';
  verbosity: Verbosity;
}

@Action({
  name: 'start',
  description: 'Start a service',
  args: { service: 'Name of the service (web, mailer, cron)', args: 'Arguments passed to its script' },
})
export class StartAction extends CommandAction<StartParams, { service: string; args: string[] }> {
  // Injected by type: the container builds ServiceCatalog from emitted decorator metadata.
  constructor(private readonly catalog: ServiceCatalog) {
    super();
  }

  handler(): void {
    const service = this.catalog.get(this.args.service);
    const workers = this.getParam('workers', service.defaultWorkers);
    const verbosity = this.getParam('verbosity', 'normal');
    if (verbosity === 'verbose') this.io.stdout.write(`resolved ${service.name} → ${service.script}\n`);
    if (verbosity === 'quiet') return;
    const extra = this.args.args.length > 0 ? ` ${this.args.args.join(' ')}` : '';
    const mode = this.getParam('detach', false) ? ' in the background' : '';
    this.io.stdout.write(
      `starting ${service.name} (${service.script}${extra}) with ${workers === 'cpus' ? 'one worker per CPU' : `${workers} workers`}${mode}\n`,
    );
  }
}

@Action({
  name: 'restart',
  description: 'Stop, then start a service',
  args: { service: 'Name of the service' },
})
export class RestartAction extends StartAction {}

@Action({ name: 'stop', description: 'Stop a service', args: { service: 'Name of the service' } })
export class StopAction extends CommandAction<{ force: boolean; verbosity: Verbosity }, { service: string }> {
  constructor(private readonly catalog: ServiceCatalog) {
    super();
  }

  handler(): void {
    const service = this.catalog.get(this.args.service);
    if (this.getParam('verbosity') === 'quiet') return;
    this.io.stdout.write(`${this.getParam('force') ? 'killing' : 'stopping'} ${service.name}\n`);
  }
}

@Action({
  name: 'status',
  description: 'Show the state of one service or all',
  args: { service: 'Name of the service' },
})
export class StatusAction extends CommandAction<{ format: 'text' | 'json' }, { service?: string }> {
  // One service by type, one by token: interfaces have no runtime class to inject by.
  constructor(
    private readonly catalog: ServiceCatalog,
    @inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
  }

  handler(): void {
    const names = this.args.service ? [this.catalog.get(this.args.service).name] : this.catalog.names();
    const at = this.clock.now().toISOString();
    if (this.getParam('format') === 'json') {
      this.io.stdout.write(
        `${JSON.stringify({ at, services: names.map((name) => ({ name, state: 'stopped' })) })}\n`,
      );
    } else {
      for (const name of names) this.io.stdout.write(`${name.padEnd(8)} stopped  (checked ${at})\n`);
    }
  }
}

@Action({
  name: 'logs',
  description: "Print a service's recent output",
  args: { service: 'Name of the service' },
})
export class LogsAction extends CommandAction<
  { stream: 'stdout' | 'stderr'; lines: number },
  { service: string }
> {
  constructor(private readonly catalog: ServiceCatalog) {
    super();
  }

  handler(): void {
    const service = this.catalog.get(this.args.service);
    const lines = this.getParam('lines', 10);
    this.io.stdout.write(`last ${lines} lines of ${service.name} ${this.getParam('stream')}: (none yet)\n`);
  }
}
