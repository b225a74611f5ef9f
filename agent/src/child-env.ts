// The environment of the processes redkeep starts (hooks, exec checks): the agent's own, less
// every variable a secret was read from (`password_env`). Secrets never reach a hook or a check.

const secretVariables = new Set<string>();

/** A variable that holds a secret: never passed on to a child process. */
export function markSecretVariable(name: string): void {
  secretVariables.add(name);
}

/** The environment for a child process: ours without secrets, plus `extra`. */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!secretVariables.has(k)) env[k] = v;
  return { ...env, ...extra };
}
