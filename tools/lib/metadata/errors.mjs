// Errors the metadata tool reports as ONE line (bad input or missing context). Exit code 2 by default.
export class MetadataError extends Error {
  constructor(message, exitCode = 2) {
    super(message);
    this.name = 'MetadataError';
    this.exitCode = exitCode;
  }
}
