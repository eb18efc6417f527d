/** The version `drover --version` prints; the same as this package's package.json. */
export const CLI_VERSION = '0.1.0';
