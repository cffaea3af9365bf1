// Preloaded into the servers the subscription bench measures
// (node --expose-gc --import ./bench/heap-probe.mjs entry.js). Asked over the
// IPC channel, it answers the JS heap in use after a full garbage collection,
// the median of five readings: RSS, read at any moment, counted garbage not
// yet collected, and a collection between two readings once made the growth
// per 1,000 subscribers come out negative.
import process from 'node:process';
import { setImmediate as nextTurn } from 'node:timers/promises';

process.on('message', async (message) => {
  if (message !== 'heap-used') return;
  const readings = [];
  for (let i = 0; i < 5; i++) {
    globalThis.gc();
    readings.push(process.memoryUsage().heapUsed);
    await nextTurn();
  }
  readings.sort((a, b) => a - b);
  process.send({ heapUsed: readings[2] });
});
