/** The CLI's exit statuses (README, CLI; `redkeep --help`). */
export const EXIT = {
  ok: 0,
  /** The command ran and failed: a switchover refused, a reload refused, an agent that cannot start. */
  failed: 1,
  /** Unknown command or option, bad value, missing argument: nothing was run. */
  usage: 2,
  /** The agent is not running: its control socket is missing or refuses connections. */
  notRunning: 3,
  /** EX_SOFTWARE: an internal error (bin/redkeep.js, plain JavaScript, writes the number itself). */
  internal: 70,
  /** EX_CONFIG: the configuration file cannot be read or is not valid. */
  config: 78,
} as const;
