/**
 * Whether a result would take more than `maxBytes` as JSON, found without
 * writing the JSON: the point is not to build a response too large to
 * send. Strings count their UTF-8 bytes and quotes (escapes are not
 * counted, so a result of many escaped characters may be a little larger),
 * and the walk stops as soon as the total is over.
 */
export function exceedsJsonBytes(value: unknown, maxBytes: number): boolean {
  let total = 0;
  const add = (item: unknown): boolean => {
    if (typeof item === 'string') total += Buffer.byteLength(item, 'utf8') + 2;
    else if (typeof item === 'number' || typeof item === 'boolean') total += String(item).length;
    else if (item === null || item === undefined) total += 4;
    else if (Array.isArray(item)) {
      total += 1 + item.length;
      for (const element of item) if (add(element)) return true;
    } else if (typeof item === 'object') {
      const record = item as Record<string, unknown>;
      total += 1;
      for (const key in record) {
        total += Buffer.byteLength(key, 'utf8') + 4;
        if (add(record[key])) return true;
      }
    }
    return total > maxBytes;
  };
  return add(value);
}
