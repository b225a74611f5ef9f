// CLIENT LIST text, for the connections clients made to given addresses of this Redis (its
// laddr, "ip:port" or "[ipv6]:port"): the ones a host that gave its VIPs away closes.

/** The distinct local addresses (laddr, as Redis prints it) of client connections made to one of `ips`; replicas and masters excluded. */
export function clientLocalAddresses(clientList: string, ips: readonly string[], canonical: (ip: string) => string = (ip) => ip): string[] {
  const wanted = new Set(ips.map(canonical));
  const out = new Set<string>();
  for (const line of clientList.split(/\r?\n/)) {
    const laddr = /(?:^| )laddr=(\S+)/.exec(line)?.[1];
    const flags = /(?:^| )flags=(\S+)/.exec(line)?.[1] ?? '';
    // S: a replica of ours, M: our master; not clients.
    if (laddr === undefined || /[SM]/.test(flags)) continue;
    const ip = laddr.startsWith('[') ? laddr.slice(1, laddr.indexOf(']')) : laddr.slice(0, laddr.lastIndexOf(':'));
    if (wanted.has(canonical(ip))) out.add(laddr);
  }
  return [...out];
}
