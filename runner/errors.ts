/**
 * Errors every layer may raise and the command line turns into an exit code. Here, below cli/, so
 * that the run directory and the live providers can refuse bad input without importing cli/.
 */

/** Bad input or usage: exit code 2, the message names the option or file and what was expected. */
export class UsageError extends Error {
  override name = 'UsageError';
}
