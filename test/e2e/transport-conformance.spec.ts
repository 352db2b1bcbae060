import { platforms } from '../support/app.js';
import { describeRedis } from '../support/redis.js';
import { testTransport } from '../support/transport-conformance.js';
import { transports } from '../support/transports.js';

// One conformance suite, every transport (test/support/transports.ts), every platform.
describe.each(transports)('transport conformance: $name', (transport) => {
  (transport.needsRedis ? describeRedis : describe)(`${transport.name}, ${transport.instances} instance(s) per cluster`, () => {
    const newCluster = transport.use();
    describe.each(platforms)('$name', (platform) => testTransport(transport, platform, newCluster));
  });
});
