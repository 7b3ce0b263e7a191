module.exports = { ...require('../../jest.preset.cjs'), displayName: 'service-kit-conformance', rootDir: __dirname };
