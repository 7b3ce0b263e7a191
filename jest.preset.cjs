// Shared jest settings: every project's jest.config.cjs spreads this.
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@secure-ci/(service-kit(?:-express|-fastify)?)$': '<rootDir>/../../libs/$1/src/index.ts' },
  testMatch: ['**/*.spec.ts'],
};
