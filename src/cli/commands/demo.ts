import type { CommandModule } from 'yargs';

import type { CommandContext, GlobalOptions } from '../context.js';

export function demoCommand(context: CommandContext): CommandModule<GlobalOptions, GlobalOptions> {
  return {
    command: 'demo',
    describe: 'The whole flow against an in-process emulator with the Owlie scenario',
    handler: async () => {
      context.output.out('demo: not built yet');
    },
  };
}
