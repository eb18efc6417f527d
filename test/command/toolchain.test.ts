// Guard: type-based constructor injection needs `design:paramtypes`, which only vite 8's oxc
// transform emits under vitest (vite 7's esbuild drops it; research command-frameworks §4-§5).
// If the toolchain drifts, these fail with a message that says why, instead of actions quietly
// receiving undefined services.
import { Action, CommandAction, CommandRouter, Template } from '@drover/command';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { capture } from './support/capture.js';
import { Recorder, StartAction } from './support/deploy-cli.js';

class Service {
  readonly id = 'service';
}

@Action({ name: 'probe', description: 'Needs a service by type' })
class ProbeAction extends CommandAction {
  constructor(readonly service: Service) {
    super();
  }
  handler(): void {
    this.io.stdout.write(this.service.id);
  }
}

@Template('<probe>', { bin: 'probe' })
class ProbeTemplate {}

describe('toolchain: decorator metadata reaches inversify', () => {
  it('emits design:paramtypes for decorated classes', () => {
    const types = Reflect.getMetadata('design:paramtypes', ProbeAction);
    expect(
      types,
      'design:paramtypes is missing: the test transform drops decorator metadata. Check that vite 8 (oxc) is the ' +
        'resolved vite and that vitest.config.ts sets oxc.decorator { legacy, emitDecoratorMetadata }.',
    ).toEqual([Service]);
    expect(Reflect.getMetadata('design:paramtypes', StartAction)?.[0]).toBe(Recorder);
  });

  it('injects a constructor parameter by its type through the router', async () => {
    const router = new CommandRouter(new Container({ autobind: true }), {
      template: ProbeTemplate,
      actions: [ProbeAction],
    });
    const out = capture();
    expect(await router.run(['probe'], out.io)).toBe(0);
    expect(out.stdout()).toBe('service');
  });
});
