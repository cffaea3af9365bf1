import proxyaddr from 'proxy-addr';

export type Located = Readonly<{
  /** The TCP peer is one of TRUSTED_PROXIES: its x-authgear-* and X-Forwarded-For headers count. */
  trustedPeer: boolean;
  /**
   * Who the client is, for logs and limits: the right-most X-Forwarded-For
   * entry that is not itself a trusted proxy (the left-most when every hop
   * is trusted), as proxy-addr computes it; the peer itself when it is not
   * trusted, whatever it claims.
   */
  clientAddress: string;
}>;

export type ClientAddresses = Readonly<{ locate(peer: string, forwardedFor: string | undefined): Located }>;

/** `TRUSTED_PROXIES` entries (IPs, CIDRs, or proxy-addr's names such as `loopback`) into one matcher. */
export function createClientAddresses(trustedProxies: readonly string[]): ClientAddresses {
  if (trustedProxies.length === 0) return { locate: (peer) => ({ trustedPeer: false, clientAddress: unmapped(peer) }) };
  const trust = proxyaddr.compile([...trustedProxies]);
  return {
    locate(peer, forwardedFor) {
      if (!trust(peer, 0)) return { trustedPeer: false, clientAddress: unmapped(peer) };
      if (forwardedFor === undefined) return { trustedPeer: true, clientAddress: unmapped(peer) };
      // proxy-addr reads only these two fields of a request.
      const request = { headers: { 'x-forwarded-for': forwardedFor }, socket: { remoteAddress: peer } };
      return { trustedPeer: true, clientAddress: unmapped(proxyaddr(request as unknown as Parameters<typeof proxyaddr>[0], trust)) };
    },
  };
}

/** Throws a TypeError naming the entry when proxy-addr cannot read it. */
export function checkTrustedProxy(entry: string): void {
  proxyaddr.compile(entry);
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client: one rate-limit key, one log spelling. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
