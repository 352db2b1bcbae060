import net from 'node:net';

/**
 * Bytes the kernel takes for one loopback TCP connection whose reader stopped
 * (the sender's send buffer plus the reader's receive buffer, autotuned), so
 * that a test can tell what a server holds in memory from what waits in the
 * kernel. It varies from one connection to the next (2.9–5.1 MB seen on the
 * same machine): the largest of `connections` measurements.
 */
export async function loopbackAbsorption(connections = 3): Promise<number> {
  let largest = 0;
  for (let i = 0; i < connections; i++) largest = Math.max(largest, await measureOnce());
  return largest;
}

/**
 * One connection: the reader first reads `warmUp` bytes (as a real client
 * does, which lets its receive buffer grow), then pauses; the writer writes
 * until the kernel stops taking bytes for `settleSamples` samples in a row.
 */
function measureOnce(warmUp = 4 * 1024 * 1024, settleSamples = 20): Promise<number> {
  return new Promise((resolve, reject) => {
    let reader: net.Socket;
    let read = 0;
    let paused = false;
    const server = net.createServer((writer) => {
      const chunk = Buffer.alloc(16 * 1024);
      let written = 0;
      const pump = () => {
        while (writer.writableLength === 0) {
          writer.write(chunk);
          written += chunk.length;
        }
      };
      writer.on('drain', pump);
      writer.on('error', () => undefined);
      pump();
      let last = -1;
      let steady = 0;
      // Sampling, not waiting: the answer is the level at which the kernel stopped taking bytes.
      const timer = setInterval(() => {
        if (!paused) return;
        const inKernel = written - writer.writableLength - read;
        steady = inKernel === last ? steady + 1 : 0;
        last = inKernel;
        if (steady < settleSamples) return;
        clearInterval(timer);
        writer.destroy();
        reader.destroy();
        server.close();
        resolve(inKernel);
      }, 10);
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      reader = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      reader.on('error', () => undefined);
      reader.on('data', (data: Buffer) => {
        read += data.length;
        if (read >= warmUp && !paused) {
          paused = true;
          reader.pause();
        }
      });
    });
  });
}
