// The environment of the processes redkeep starts (hooks, exec checks): the agent's own, less
// every variable a secret was read from (`password_env`), and less JOURNAL_STREAM: it describes
// the agent's stdout and stderr, and a child's are not the journal (a hook's stderr is read and
// logged by the agent, its stdout and a check's output are discarded). Secrets never reach a
// hook or a check.

const secretVariables = new Set<string>();
/** Variables that describe the agent's own process, untrue of a child's. */
const agentOnlyVariables: ReadonlySet<string> = new Set(['JOURNAL_STREAM']);

/** A variable that holds a secret: never passed on to a child process. */
export function markSecretVariable(name: string): void {
  secretVariables.add(name);
}

/** The environment for a child process: ours without secrets and JOURNAL_STREAM, plus `extra`. */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!secretVariables.has(k) && !agentOnlyVariables.has(k)) env[k] = v;
  return { ...env, ...extra };
}
