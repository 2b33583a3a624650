/**
 * Secrets out of everything lockstep writes or prints. A database URL given on the command line
 * (`--postgres postgres://user:secret@host/db`) carries its password; the password is replaced
 * with `***` wherever the URL is shown: the command stored in results.json, the report's
 * provenance, and error messages. The user name and host stay, since they say which database.
 */

/** The redaction mark that stands where a password was. */
export const REDACTED = '***';

// scheme://user:password@ : the password is everything between the first ':' after '//' and the
// last '@' before the host, so a password holding '@' or ':' is still caught whole.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s]*)@(?=[^\s@]*(?:[\s/?#]|$))/gi;
// key=value forms that some drivers and tools accept: password=..., PGPASSWORD=...
const KEY_PASSWORD = /\b((?:[a-z_]*password|passwd|pwd)\s*[=:]\s*)([^\s&;,'"]+)/gi;

/** `text` with every URL password and `password=...` value replaced by `***`. */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, `$1:${REDACTED}@`).replace(KEY_PASSWORD, `$1${REDACTED}`);
}

/** A URL as it may be shown: its password, if it has one, replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = REDACTED;
    return parsed.toString();
  } catch {
    return redactSecrets(url);
  }
}

/**
 * A command line as it may be stored and shown: each argument redacted on its own, so a password
 * with a space in it (one argument to the shell) is caught whole, then joined with spaces.
 */
export function redactCommandLine(argv: readonly string[]): string {
  return argv.map(redactArgument).join(' ');
}

function redactArgument(argument: string): string {
  const option = /^(--[a-z-]+=)(.*)$/s.exec(argument);
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- the group (.*) takes part in every match
  if (option !== null) return `${option[1]}${redactArgument(option[2]!)}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(argument)) {
    const at = argument.lastIndexOf('@');
    const colon = argument.indexOf(':', argument.indexOf('//') + 2);
    if (at > 0 && colon > 0 && colon < at) return `${argument.slice(0, colon)}:${REDACTED}${argument.slice(at)}`;
    return argument;
  }
  return redactSecrets(argument);
}
