/**
 * Jest runs in native ESM mode (NestJS 12 ships ESM only): ts-jest compiles
 * TypeScript to ESM and the `.js` suffixes of relative imports are mapped away.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30000,
  // Suites run in a worker process, restarted between files once its heap passes this: a process
  // that has run every suite holds well over a gigabyte (ESM module registries are not let go), and
  // the memory suites then spend minutes in full collections of what earlier suites left.
  workerIdleMemoryLimit: '800MB',
};
