#!/usr/bin/env node
// The AWS SDK warns on every run under Node 20 about its releases after January 2027; the
// versions this package locks support Node 20, and a multi-line warning would bury our one-line errors.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
