/**
 * Operators' commands: `operator create`, and `merchant verify | freeze | unfreeze` (added to the
 * `merchant` command).
 */
import { Command } from 'commander';

export function operatorCommand(): Command {
  return new Command('operator').description('manage back-office operators');
}

export function addMerchantOperatorCommands(_merchant: Command): void {}
