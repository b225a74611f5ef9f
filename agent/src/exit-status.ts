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

/** Each status with its meaning, in the order `--help` and redkeep(8) list them. */
export const EXIT_MEANINGS: readonly { readonly status: number; readonly brief: string; readonly detail: string }[] = [
  { status: EXIT.ok, brief: 'ok', detail: 'The command did what was asked.' },
  {
    status: EXIT.failed,
    brief: 'the command failed (a switchover refused, ...)',
    detail: 'The command ran and failed: a switchover or reload was refused, nobody took over, or the agent could not start.',
  },
  {
    status: EXIT.usage,
    brief: 'usage error (nothing was run)',
    detail: 'Unknown command or option, a value not among the choices, a missing argument, or a file decode cannot read: nothing was run and no request reached the agent.',
  },
  {
    status: EXIT.notRunning,
    brief: 'the agent is not running (its control socket is missing or refuses)',
    detail: 'The agent is not running: its control socket is missing or refuses connections.',
  },
  {
    status: EXIT.config,
    brief: 'configuration error',
    detail: 'EX_CONFIG: the configuration file (of run, check-config, or the --config a command takes its socket from) cannot be read or is not valid. The systemd unit does not restart on it.',
  },
  { status: EXIT.internal, brief: 'internal error', detail: 'EX_SOFTWARE: an internal error.' },
];
