/**
 * `billetera`: the wallet's command line. Every command takes --data-dir / --database-url, and all of them
 * are safe to run while the server runs (SQLite writers queue on the file lock; PostgreSQL locks rows).
 */
import { Command } from 'commander';
import { checkCommand } from './check-command.ts';
import { keysCommand, merchantCommand, miniProgramCommand, sandboxCommand, userCommand } from './commands.ts';
import { notificationsCommand } from './notifications-command.ts';
import { operatorCommand } from './operator-commands.ts';
import { startCommand } from './start.ts';

const program = new Command('billetera')
  .description('Billetera: an open, self-hostable wallet payment platform for mini programs')
  .showHelpAfterError()
  .addCommand(startCommand())
  .addCommand(merchantCommand())
  .addCommand(miniProgramCommand())
  .addCommand(userCommand())
  .addCommand(sandboxCommand())
  .addCommand(keysCommand())
  .addCommand(notificationsCommand())
  .addCommand(operatorCommand())
  .addCommand(checkCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`billetera: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
