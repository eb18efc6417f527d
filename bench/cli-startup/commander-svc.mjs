#!/usr/bin/env node
// The example tool (examples/command-tool, `svc`) written with commander 14: the baseline of the
// cold-start benchmark. Same actions, arguments, options and behaviour for `--help`.
import { Command, Option } from 'commander';

const services = new Map([
  ['web', { script: 'server.mjs', workers: 4 }],
  ['mailer', { script: 'mailer.mjs', workers: 2 }],
  ['cron', { script: 'cron.mjs', workers: 1 }],
]);

function service(name) {
  const found = services.get(name);
  if (!found)
    throw new Error(`no service named '${name}'; known services: ${[...services.keys()].join(', ')}`);
  return { name, ...found };
}

const program = new Command('svc')
  .description('A toy service controller built on commander.')
  .version('0.1.0')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

for (const name of ['start', 'restart']) {
  program
    .command(name)
    .description(name === 'start' ? 'Start a service' : 'Stop, then start a service')
    .argument('<service>', 'Name of the service (web, mailer, cron)')
    .argument('[args...]', 'Arguments passed to its script')
    .option('-d, --detach', 'Return once the service runs in the background')
    .option(
      '-w, --workers [count]',
      "Number of workers; alone, one per CPU; default: the service's own setting",
    )
    .addOption(new Option('-q, --quiet', 'Print nothing on success').conflicts('verbose'))
    .addOption(new Option('-v, --verbose', 'Print each step').conflicts('quiet'))
    .action((serviceName, args, opts) => {
      const s = service(serviceName);
      if (opts.quiet) return;
      const workers = opts.workers === true ? 'one worker per CPU' : `${opts.workers ?? s.workers} workers`;
      process.stdout.write(
        `starting ${s.name} (${[s.script, ...args].join(' ')}) with ${workers}${opts.detach ? ' in the background' : ''}\n`,
      );
    });
}

program
  .command('stop')
  .description('Stop a service')
  .argument('<service>', 'Name of the service')
  .option('-f, --force', 'Kill the workers instead of letting them finish')
  .addOption(new Option('-q, --quiet', 'Print nothing on success').conflicts('verbose'))
  .addOption(new Option('-v, --verbose', 'Print each step').conflicts('quiet'))
  .action((name, opts) => {
    const s = service(name);
    if (!opts.quiet) process.stdout.write(`${opts.force ? 'killing' : 'stopping'} ${s.name}\n`);
  });

program
  .command('status')
  .description('Show the state of one service or all')
  .argument('[service]', 'Name of the service')
  .addOption(new Option('--format <format>', 'Output format').choices(['text', 'json']))
  .action((name, opts) => {
    const names = name ? [service(name).name] : [...services.keys()];
    const at = new Date().toISOString();
    if (opts.format === 'json')
      process.stdout.write(
        `${JSON.stringify({ at, services: names.map((n) => ({ name: n, state: 'stopped' })) })}\n`,
      );
    else for (const n of names) process.stdout.write(`${n.padEnd(8)} stopped  (checked ${at})\n`);
  });

program
  .command('logs')
  .description("Print a service's recent output")
  .argument('<service>', 'Name of the service')
  .addOption(new Option('-o, --stdout', "Show the workers' standard output").conflicts('stderr'))
  .addOption(new Option('-e, --stderr', "Show the workers' standard error").conflicts('stdout'))
  .option('-n, --lines <count>', 'How many lines to show')
  .action((name, opts) => {
    if (!opts.stdout && !opts.stderr) program.error('error: one of -o, -e is required', { exitCode: 2 });
    process.stdout.write(
      `last ${opts.lines ?? 10} lines of ${service(name).name} ${opts.stdout ? 'stdout' : 'stderr'}: (none yet)\n`,
    );
  });

await program.parseAsync();
