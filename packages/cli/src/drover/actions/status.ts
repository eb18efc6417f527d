import { Action, CommandAction, UsageError } from '@drover/command';
import { withoutPrefix } from '../../messages.js';
import { GROUP_NAME, GROUP_NAME_RULE } from '../names.js';
import { printStatus } from '../status.js';

@Action({
  name: 'status',
  description:
    'Show the master and workers of every running group, or of one. ' +
    'Exits 3 when a group shown is degraded: a PIN crash-loops, was given up, or its worker is stopped by a signal',
  args: { name: 'Group name; default: every running group' },
})
export class StatusAction extends CommandAction<{ json: boolean }, { name?: string }> {
  async handler(): Promise<number> {
    const name = this.args.name;
    if (name !== undefined && !GROUP_NAME.test(name)) {
      throw new UsageError(`group name ${JSON.stringify(name)} is not valid`, {
        hint: `a group name is ${GROUP_NAME_RULE}`,
      });
    }
    try {
      return await printStatus({ name, json: this.getParam('json', false) }, this.io);
    } catch (error) {
      throw withoutPrefix(error);
    }
  }
}
