import dns from 'node:dns/promises';
import net from 'node:net';

/**
 * SSRF guard: a webhook must not reach inside our network. Refused: non-http(s) schemes, and hosts that resolve to
 * loopback, private, unique-local, link-local (incl. cloud metadata 169.254.169.254), unspecified, CGNAT or
 * multicast addresses — unless an admin allow-listed the endpoint. Checked at registration and again before every
 * delivery, since DNS can change.
 */
const blockedV4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

function v4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function isBlockedV4(address: string): boolean {
  const value = v4ToInt(address);
  return blockedV4.some(([base, bits]) => {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    return value >= start && value < start + size;
  });
}

/** Is this literal address one a webhook may not reach? */
export function isBlockedAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return isBlockedV4(address);
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isBlockedV4(mapped[1]!);
  if (lower === '::' || lower === '::1') return true;
  const first = parseInt(lower.split(':')[0] || '0', 16);
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  return false;
}

export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** Why this URL may not be called (null when it may). */
export async function urlProblem(
  url: string,
  options: { allowPrivate: boolean; lookup?: Lookup },
): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '无效的地址 (invalid URL)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return '只允许 http(s) (only http and https)';
  if (parsed.username || parsed.password) return '地址不能含凭据 (no credentials in the URL)';
  if (options.allowPrivate) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = net.isIP(host) ? [host] : await (options.lookup ?? systemLookup)(host);
  } catch {
    return '无法解析主机 (host does not resolve)';
  }
  if (addresses.length === 0) return '无法解析主机 (host does not resolve)';
  if (addresses.some(isBlockedAddress))
    return '地址指向内网、回环或元数据地址 (resolves to a loopback, private or metadata address)';
  return null;
}
